/**
 * Runs a state machine CDK synthesized, as deployed by `deployStack`, against the local provider.
 *
 * The definition is the template's own `DefinitionString`, resolved against the deployment. It runs
 * on aws-local-stepfunctions (an ASL interpreter); its Task states are bound here by resource:
 * - `arn:aws:states:::aws-sdk:<service>:<action>`: the real AWS SDK v3 client of that service,
 *   sent to the local provider, without the SDK's own retries (the state machine's Retry is the
 *   retry layer, as in Step Functions); its errors are named `<Service>.<Name>Exception`, the way
 *   Step Functions names them;
 * - a Lambda function ARN (or `arn:aws:states:::lambda:invoke`): the handler module the function's
 *   `Handler` names, called in-process;
 * - `arn:aws:states:::sns:publish`: recorded as a notification (SNS is not emulated).
 * Waits, retry intervals and the run's timeout run on the provider's clock (divided by its speed).
 *
 * When the run ends, its "Step Functions Execution Status Change" event goes to the deployment's
 * EventBridge rules (local/events.ts): a state machine target is run in turn (its notifications are
 * the run's too), an SNS topic target is recorded as a notification.
 *
 * The run reports what Step Functions would bill: state transitions (states entered, and retries),
 * and the Lambda invocations.
 */
import { awsSdkTask, clockContext, clockOverrides, onProviderClock, StateMachine } from './asl';
import { Deployment } from './deploy';
import { BusEvent, deliveries } from './events';
import { LocalProvider } from './provider';

export { sdkErrorName } from './asl';

/** Lambda handlers by the `Handler` property of the function (`index.exportWorkflowStep`). */
export type LambdaHandlers = Record<string, (event: any) => Promise<unknown>>;

export interface RunOptions {
  readonly provider: LocalProvider;
  readonly deployment: Deployment;
  /** The state machine's logical id in the deployment's template. */
  readonly stateMachine: string;
  readonly lambdas: LambdaHandlers;
  readonly input?: unknown;
  /** Replaces the definition's `TimeoutSeconds` (simulated seconds): a run that times out, without waiting hours. */
  readonly timeoutSeconds?: number;
  /** Stops the run after this many simulated seconds, as `StopExecution` does. */
  readonly abortAfterSeconds?: number;
}

export interface Notification {
  readonly topicArn: string;
  readonly subject?: string;
  readonly message: unknown;
}

/** A run that an EventBridge rule started when this one ended. */
export interface TriggeredRun {
  readonly rule: string;
  readonly stateMachine: string;
  readonly run: StateMachineRun;
}

export interface StateMachineRun {
  readonly status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  readonly output?: any;
  readonly error?: string;
  readonly cause?: string;
  /** States entered plus retries: what Step Functions Standard bills. */
  readonly stateTransitions: number;
  readonly lambdaInvocations: number;
  /** Calls per Task state (each attempt counts). */
  readonly taskCalls: Record<string, number>;
  /** States entered, in order. */
  readonly path: string[];
  readonly retries: Array<{ state: string; error: string }>;
  /** Published by the run, and by the runs its status change started. */
  readonly notifications: Notification[];
  /** Runs started by EventBridge rules on this run's status change. */
  readonly triggered: TriggeredRun[];
  /** Simulated minutes the run took on the provider's clock. */
  readonly simulatedMinutes: number;
}

export async function runStateMachine(options: RunOptions): Promise<StateMachineRun> {
  return runOne(options, 0);
}

async function runOne(options: RunOptions, depth: number): Promise<StateMachineRun> {
  const d = options.deployment;
  const resource = d.template.Resources?.[options.stateMachine];
  if (resource?.Type !== 'AWS::StepFunctions::StateMachine') {
    throw new Error(`${options.stateMachine} is not a state machine of stack ${d.stackName}`);
  }
  const body = d.resolve(resource.Properties.DefinitionString);
  // aws-local-stepfunctions sets `$$.Execution.StartTime` to the host's time and has no
  // `$$.State.EnteredTime`; runs here happen on the provider's simulated clock, so both are read
  // from context fields this runner keeps on that clock (see `context` below).
  const text = onProviderClock(typeof body === 'string' ? body : JSON.stringify(body));
  const definition = JSON.parse(text);
  const speed = options.provider.clock.speed;
  // The run's timeout, on the provider's clock too: kept by a timer here, since the interpreter
  // takes whole seconds only.
  const timeoutSeconds: number | undefined = options.timeoutSeconds ?? definition.TimeoutSeconds;
  delete definition.TimeoutSeconds;
  const clientConfig = { region: d.region, endpoint: options.provider.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 };
  const clients = new Map<string, any>();
  const taskCalls: Record<string, number> = {};
  const notifications: Notification[] = [];
  let lambdaInvocations = 0;

  const handlers: Record<string, (input: any) => Promise<any>> = {};
  const { waits, retryIntervals } = clockOverrides(definition, speed);
  for (const [name, state] of Object.entries<any>(definition.States)) {
    if (state.Type !== 'Task') continue;
    const call = bindTask(name, state.Resource);
    handlers[name] = async (input: any) => {
      taskCalls[name] = (taskCalls[name] ?? 0) + 1;
      return call(input);
    };
  }

  function bindTask(name: string, arn: string): (input: any) => Promise<any> {
    const sdk = awsSdkTask(name, arn, clientConfig, clients);
    if (sdk) return sdk;
    if (arn === 'arn:aws:states:::sns:publish') {
      return async (input) => {
        notifications.push({ topicArn: input.TopicArn, subject: input.Subject, message: tryJson(input.Message) });
        return { MessageId: `local-${notifications.length}` };
      };
    }
    const functionArn = arn === 'arn:aws:states:::lambda:invoke' ? undefined : arn;
    return async (input) => {
      const target = functionArn ?? input.FunctionName;
      const payload = functionArn ? input : input.Payload;
      const logicalId = d.logicalIdOfArn(target);
      const fn = logicalId ? d.template.Resources[logicalId] : undefined;
      const handler = fn?.Type === 'AWS::Lambda::Function' ? options.lambdas[fn.Properties.Handler] : undefined;
      if (!handler) throw new Error(`state ${name}: no local handler for function ${target} (${fn?.Properties?.Handler ?? 'unknown'})`);
      lambdaInvocations++;
      const result = JSON.parse(JSON.stringify(await handler(payload) ?? null));
      return functionArn ? result : { Payload: result, StatusCode: 200 };
    };
  }

  const machine = new StateMachine(definition, { validationOptions: { checkArn: false, checkPaths: true } });
  const started = options.provider.clock.now();
  const stateMachineArn: string = d.resolve({ Ref: options.stateMachine });
  const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:local-${started}`;
  const execution = machine.run((options.input ?? {}) as any, {
    overrides: { taskResourceLocalHandlers: handlers, waitTimeOverrides: waits, retryIntervalOverrides: retryIntervals },
    context: {
      Execution: { Id: executionArn, Name: executionArn.split(':').pop(), StartTime: new Date(started).toISOString(), Input: (options.input ?? {}) as any },
      ...clockContext(options.provider, started),
    } as any,
  });
  let timedOut = false;
  const timers = [
    timeoutSeconds === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      execution.abort();
    }, options.provider.clock.real(timeoutSeconds * 1000)),
    options.abortAfterSeconds === undefined ? undefined
      : setTimeout(() => execution.abort(), options.provider.clock.real(options.abortAfterSeconds * 1000)),
  ];
  const path: string[] = [];
  const retries: Array<{ state: string; error: string }> = [];
  let stateTransitions = 0;
  let lastError: { name: string; message: string } | undefined;
  const collect = (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type === 'StateEntered') {
        stateTransitions++;
        path.push(event.state.name);
      } else if (event.type === 'StateRetried') {
        stateTransitions++;
        retries.push({ state: event.state.name, error: lastError?.name ?? '' });
      } else if (event.type === 'StateFailed') {
        lastError = { name: event.Error, message: String(event.Cause) };
      }
    }
  })();
  let output: any;
  let status: StateMachineRun['status'] = 'SUCCEEDED';
  let failure: { error: string; cause: string } | undefined;
  try {
    output = await execution.result;
  } catch (e) {
    const err = e as { name?: string; message: string; cause?: { name?: string; message?: string } };
    if (err.name === 'ExecutionAbortedError' && timedOut) {
      status = 'TIMED_OUT';
      failure = { error: 'States.Timeout', cause: `The execution outlasted its timeout of ${timeoutSeconds} seconds` };
    } else if (err.name === 'ExecutionAbortedError') {
      status = 'ABORTED';
      failure = { error: 'States.Aborted', cause: err.message };
    } else {
      status = 'FAILED';
      failure = { error: err.cause?.name ?? 'States.Runtime', cause: err.cause?.message ?? err.message };
    }
  } finally {
    for (const timer of timers) clearTimeout(timer);
  }
  await collect;
  for (const c of clients.values()) c.destroy();
  const stopped = options.provider.clock.now();

  // The status change, as Step Functions sends it to EventBridge.
  const event: BusEvent = {
    'version': '0',
    'id': `local-${stopped}`,
    'detail-type': 'Step Functions Execution Status Change',
    'source': 'aws.states',
    'account': d.account,
    'time': new Date(stopped).toISOString(),
    'region': d.region,
    'resources': [executionArn],
    'detail': {
      executionArn,
      stateMachineArn,
      name: executionArn.split(':').pop(),
      status,
      startDate: started,
      stopDate: stopped,
      input: JSON.stringify(options.input ?? {}),
      output: status === 'SUCCEEDED' ? JSON.stringify(output) : null,
    },
  };
  const triggered: TriggeredRun[] = [];
  for (const delivery of deliveries(d, event)) {
    if (delivery.targetArn.startsWith('arn:aws:sns:')) {
      notifications.push({ topicArn: delivery.targetArn, message: delivery.input });
      continue;
    }
    const target = d.logicalIdOfArn(delivery.targetArn)
      ?? Object.keys(d.template.Resources).find((id) => d.refs.get(id) === delivery.targetArn);
    if (!target || d.template.Resources[target].Type !== 'AWS::StepFunctions::StateMachine') {
      throw new Error(`rule ${delivery.rule}: its target ${delivery.targetArn} is not emulated (state machines and SNS topics are)`);
    }
    if (depth >= 5) throw new Error(`rule ${delivery.rule}: runs started by rules nest more than 5 deep`);
    const run = await runOne({
      provider: options.provider, deployment: d, stateMachine: target, lambdas: options.lambdas, input: delivery.input,
    }, depth + 1);
    notifications.push(...run.notifications);
    triggered.push({ rule: delivery.rule, stateMachine: target, run });
  }

  const common = {
    stateTransitions,
    lambdaInvocations,
    taskCalls,
    path,
    retries,
    notifications,
    triggered,
    simulatedMinutes: Math.round((stopped - started) / 60_000),
  };
  return failure ? { status, ...failure, ...common } : { status, output, ...common };
}

function tryJson(text: unknown): unknown {
  if (typeof text !== 'string') return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
