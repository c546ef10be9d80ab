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
  readonly error?: string;
  readonly cause?: string;
  /** The state the run failed in (the last one entered), when it failed. */
  readonly failedState?: string;
  readonly output?: any;
}

export async function readRun(sfn: SFNClient, executionArn: string): Promise<RunSummary> {
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
  const lastEntered = entered[entered.length - 1]?.stateEnteredEventDetails?.name;
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
    error: run.error,
    cause: run.cause,
    failedState: run.status === 'FAILED' || run.status === 'TIMED_OUT' ? lastEntered : undefined,
    output,
  };
}
