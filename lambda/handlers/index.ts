/**
 * The one entry point of this library's custom resources, for the Provider framework: each event
 * goes to the handler of its resource type. onEvent's answer carries the resource's deadline
 * (lambda/handlers/deadline.ts), which the framework passes on to every isComplete call.
 */
import { startDeadline } from './deadline';
import * as exportBucketAcl from './export-bucket-acl';
import * as finalSnapshot from './final-snapshot';
import * as preUpdateSnapshot from './pre-update-snapshot';
import * as redisSnapshot from './redis-snapshot';

interface TypedEvent {
  readonly ResourceType: string;
}

function handlerFor(event: TypedEvent): { onEvent(e: unknown): Promise<unknown>; isComplete(e: unknown): Promise<unknown> } {
  switch (event.ResourceType) {
    case 'Custom::RedisSnapshot':
      return redisSnapshot as any;
    case 'Custom::RedisFinalSnapshot':
      return finalSnapshot as any;
    case 'Custom::RedisPreUpdateSnapshot':
      return preUpdateSnapshot as any;
    case 'Custom::SnapshotExportBucketAcl':
      return exportBucketAcl as any;
    default:
      throw new Error(`no handler for resource type ${event.ResourceType}`);
  }
}

export async function onEvent(event: TypedEvent): Promise<unknown> {
  // The clock starts when the request arrives, not when onEvent's own work is done.
  const deadline = startDeadline(event);
  const answer = await handlerFor(event).onEvent(event) as object;
  return { ...answer, ...deadline };
}

export async function isComplete(event: TypedEvent): Promise<unknown> {
  return handlerFor(event).isComplete(event);
}

/** The Lambda steps of the scheduled export workflow (`ScheduledSnapshotExport`). */
export { handler as exportWorkflowStep } from './export-workflow';
