/**
 * The entry point of the scheduled export workflow's Lambda steps (`ScheduledSnapshotExport`),
 * bundled on its own (assets/export-workflow): the function loads only what its steps use.
 */
export { handler as exportWorkflowStep } from './export-workflow';
