/**
 * A workflow run as the drill reports it, read through the Step Functions API (DescribeExecution and
 * GetExecutionHistory), as an operator would read it: status, times, what it is billed for, and
 * where and why it failed.
 *
 * Billing (Step Functions pricing, Standard workflows): a state transition for each state entered,
 * retries included; so transitions = states entered + retries, where a retry is a Task attempt
 * beyond the first of its state entry (a TaskScheduled after a TaskFailed of the same state).
 */
import { DescribeExecutionCommand, GetExecutionHistoryCommand, HistoryEvent, SFNClient } from '@aws-sdk/client-sfn';

export interface RunSummary {
  readonly executionArn: string;
  readonly name: string;
  readonly status: string;
  /** Simulated ms since the epoch. */
  readonly startedAt: number;
  readonly stoppedAt?: number;
  readonly transitions: number;
  readonly retries: number;
  readonly lambdaInvocations: number;
  /**
   * Real milliseconds the Lambda tasks took (TaskStarted to TaskSucceeded/TaskFailed, on the
   * simulated clock divided by its speed): what Lambda bills, as the functions ran on this machine.
   */
  readonly lambdaDurationMs: number;
  readonly error?: string;
  readonly cause?: string;
  /** The state the run failed in (the last one entered), when it failed. */
  readonly failedState?: string;
  readonly output?: any;
}

/** @param speed the provider clock's speed (simulated ms per real ms), to turn task times into real durations */
export async function readRun(sfn: SFNClient, executionArn: string, speed = 1): Promise<RunSummary> {
  const run = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const entered = events.filter((e) => e.type?.endsWith('StateEntered'));
  const scheduled = events.filter((e) => e.type === 'TaskScheduled');
  const taskEntries = events.filter((e) => e.type === 'TaskStateEntered').length;
  // The state it failed in: the Task whose failed attempt was the last one (a workflow that catches
  // an error goes on to notify and fail: those are not where it failed); else the last state entered.
  let state: string | undefined;
  let failedTask: string | undefined;
  for (const e of events) {
    if (e.stateEnteredEventDetails) state = e.stateEnteredEventDetails.name;
    if (e.type === 'TaskFailed') failedTask = state;
  }
  const lastEntered = failedTask ?? entered[entered.length - 1]?.stateEnteredEventDetails?.name;
  let lambdaDurationMs = 0;
  let startedAt: number | undefined;
  for (const e of events) {
    if (e.type === 'TaskStarted' && e.taskStartedEventDetails?.resourceType === 'lambda') startedAt = e.timestamp!.getTime();
    if ((e.type === 'TaskSucceeded' || e.type === 'TaskFailed') && startedAt !== undefined) {
      lambdaDurationMs += (e.timestamp!.getTime() - startedAt) / speed;
      startedAt = undefined;
    }
  }
  let output: any;
  try {
    output = run.output ? JSON.parse(run.output) : undefined;
  } catch {
    output = run.output;
  }
  return {
    executionArn,
    name: run.name ?? executionArn.split(':').pop()!,
    status: run.status ?? 'UNKNOWN',
    startedAt: run.startDate!.getTime(),
    stoppedAt: run.stopDate?.getTime(),
    transitions: entered.length + (scheduled.length - taskEntries),
    retries: scheduled.length - taskEntries,
    lambdaInvocations: scheduled.filter((e) => e.taskScheduledEventDetails?.resourceType === 'lambda').length,
    lambdaDurationMs: Math.round(lambdaDurationMs),
    error: run.error,
    cause: run.cause,
    failedState: run.status === 'FAILED' || run.status === 'TIMED_OUT' ? lastEntered : undefined,
    output,
  };
}
