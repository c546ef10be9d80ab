/**
 * Each custom resource's own deadline. One provider serves every resource of this library in a
 * stack, with one waiter that gives up after CloudFormation's hour; a resource's shorter timeout is
 * kept here, by its handler, whatever order the resources were constructed in.
 *
 * The dispatcher's onEvent stamps its answer with a deadline (`startDeadline`), which the Provider
 * framework hands to every isComplete call; each isComplete calls `enforceDeadline` first. Past the
 * deadline, a resource whose work is not done fails with an error naming the resource, its timeout
 * and what was not done; no new work is started after the deadline.
 */
import {
  DeadlineStamp, LAST_DEADLINE_SECONDS, MAX_TIMEOUT_SECONDS, MIN_TIMEOUT_SECONDS, TimeoutResourceProperties,
} from '../../src/private/deadline-contract';

export interface DeadlineEvent {
  readonly ResourceType?: string;
  readonly LogicalResourceId?: string;
  readonly ResourceProperties?: TimeoutResourceProperties & object;
  /** Set by the dispatcher's onEvent; absent on events that did not pass through it. */
  readonly Deadline?: DeadlineStamp;
}

/** The resource's timeout in seconds: its `TimeoutSeconds` property within 1 minute .. 1 hour, else the hour. */
export function timeoutSeconds(event: DeadlineEvent): number {
  const raw = event.ResourceProperties?.TimeoutSeconds;
  const seconds = raw === undefined || raw === '' ? NaN : Number(raw);
  if (!Number.isFinite(seconds)) return MAX_TIMEOUT_SECONDS;
  return Math.min(Math.max(seconds, MIN_TIMEOUT_SECONDS), MAX_TIMEOUT_SECONDS);
}

/** The deadline of a request whose onEvent runs at `now`: its timeout, but no later than the last safe check. */
export function startDeadline(event: DeadlineEvent, now: number = Date.now()): { Deadline: DeadlineStamp } {
  const timeout = timeoutSeconds(event);
  const at = now + Math.min(timeout, LAST_DEADLINE_SECONDS) * 1000;
  return { Deadline: { At: new Date(at).toISOString(), TimeoutSeconds: timeout } };
}

function human(seconds: number): string {
  if (seconds % 3600 === 0) return seconds === 3600 ? '1 hour' : `${seconds / 3600} hours`;
  if (seconds % 60 === 0) return seconds === 60 ? '1 minute' : `${seconds / 60} minutes`;
  return `${seconds} seconds`;
}

/**
 * Fails the resource when its deadline has passed and `notDone` says what is left (it returns
 * undefined when the work is done, or when the caller's own checks report the outcome). An event
 * without a deadline (not stamped by the dispatcher) is bounded by the provider's waiter only.
 */
export async function enforceDeadline(event: DeadlineEvent, notDone: () => Promise<string | undefined>, now: number = Date.now()): Promise<void> {
  const deadline = event.Deadline;
  if (!deadline || now < Date.parse(deadline.At)) return;
  const left = await notDone();
  if (left === undefined) return;
  const early = deadline.TimeoutSeconds > LAST_DEADLINE_SECONDS
    ? ` (checked ${human(LAST_DEADLINE_SECONDS)} in, before CloudFormation's one-hour limit for a custom resource)`
    : '';
  const resource = [event.ResourceType ?? 'Custom resource', event.LogicalResourceId].filter((s) => s).join(' ');
  throw new Error(`${resource} did not finish within its timeout of ${human(deadline.TimeoutSeconds)}${early}: ${left}`);
}
