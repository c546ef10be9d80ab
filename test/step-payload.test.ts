/**
 * The export workflow's Lambda step payloads: typed by the step contract at compile time (the
 * `@ts-expect-error` lines below fail `tsc -p test/tsconfig.json` if they ever compile), and
 * rendered as Step Functions takes them.
 */
import { at, renderPayload, WorkflowStepPayload } from '../src/private/step-payload';

const plan: WorkflowStepPayload = { step: 'plan', prefix: 'nightly', startTime: at('$$.Execution.StartTime') };

// A misspelled key.
// @ts-expect-error 'prefx' does not exist in the plan step's input
const misspelled: WorkflowStepPayload = { step: 'plan', prefx: 'nightly', startTime: at('$$.Execution.StartTime') };

// A missing key.
// @ts-expect-error 'startTime' is missing
const missing: WorkflowStepPayload = { step: 'plan', prefix: 'nightly' };

// A key of another step.
// @ts-expect-error 'bucket' belongs to other steps, not to plan
const foreign: WorkflowStepPayload = { step: 'plan', prefix: 'nightly', startTime: at('$$.Execution.StartTime'), bucket: 'b' };

// A value of the wrong type.
// @ts-expect-error shards is a number (or a JSONPath read)
const wrongType: WorkflowStepPayload = { step: 'verifyExport', bucket: 'b', snapshotName: 's', shards: '1', checks: 0, maxChecks: 1 };

// An unknown step.
// @ts-expect-error there is no step 'export'
const unknownStep: WorkflowStepPayload = { step: 'export', prefix: 'nightly', startTime: at('$$.Execution.StartTime') };

// The step itself cannot be read at run time: it selects the handler.
// @ts-expect-error step must be literal
const pathStep: WorkflowStepPayload = { step: at('$.step'), prefix: 'nightly', startTime: at('$$.Execution.StartTime') };

test('JSONPath reads render under <key>.$, other values as they are', () => {
  expect(renderPayload(plan)).toEqual({ 'step': 'plan', 'prefix': 'nightly', 'startTime.$': '$$.Execution.StartTime' });
  expect(renderPayload({
    step: 'checkReplica', bucket: 'b', replicaBucket: 'r', replicaRegion: 'us-west-2', objects: at('$.export.objects'), checks: at('$.replica.checks'), maxChecks: 48,
  })).toEqual({
    'step': 'checkReplica', 'bucket': 'b', 'replicaBucket': 'r', 'replicaRegion': 'us-west-2', 'objects.$': '$.export.objects', 'checks.$': '$.replica.checks', 'maxChecks': 48,
  });
});

test('a path that is not a JSONPath is refused', () => {
  expect(() => at('plan.snapshotName')).toThrow(new Error("'plan.snapshotName' is not a JSONPath; a state machine path starts with $ (state) or $$ (context)"));
});

// The ill-typed payloads exist only for the compiler.
void [misspelled, missing, foreign, wrongType, unknownStep, pathStep];
