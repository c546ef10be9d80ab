/**
 * What the drill can drill in a synthesized app: the library's workflows, found by the metadata
 * their state machines carry (`cdk-elasticache-backup:workflow`, src/private/workflow.ts), paired
 * export -> restore by snapshot prefix and replica bucket, with what it cannot drill and why.
 *
 * Planning reads the cloud assembly only; `resolvePlan` then reads the values that are references
 * (group ids, bucket names, zone ids) from the stacks as deployed in the local provider.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Deployment } from '../deploy';
import { LocalProvider } from '../provider';

/** The metadata key of src/private/workflow.ts (WORKFLOW_METADATA); the drill reads templates, not the library. */
export const WORKFLOW_METADATA = 'cdk-elasticache-backup:workflow';

export interface DeclaredWorkflow {
  readonly stackName: string;
  readonly region: string;
  readonly account: string;
  readonly logicalId: string;
  /** The metadata as synthesized (values may be references). */
  readonly description: Record<string, any>;
}

export interface DrillPair {
  readonly exportWorkflow: DeclaredWorkflow;
  readonly restoreWorkflow: DeclaredWorkflow;
}

export interface DrillPlan {
  /** Stacks in deployment order (the assembly's). */
  readonly stacks: Array<{ name: string; region: string; account: string }>;
  readonly pairs: DrillPair[];
  /** What the app declares that the drill cannot drill, with the reason. */
  readonly cannot: string[];
}

interface AssemblyStack {
  readonly name: string;
  readonly region: string;
  readonly account: string;
  readonly template: any;
}

/**
 * The stacks of the cloud assembly in `dir`, nested assemblies (stages) included, in manifest order
 * (the cloud assembly schema: artifacts of type `aws:cloudformation:stack` with `environment`
 * `aws://<account>/<region>` and `properties.templateFile`; `cdk:cloud-assembly` artifacts name a
 * nested assembly's directory). Read directly: the bundled CLI does not carry aws-cdk-lib.
 */
export function assemblyStacks(dir: string): AssemblyStack[] {
  const manifestFile = path.join(dir, 'manifest.json');
  if (!fs.existsSync(manifestFile)) throw new Error(`${dir} is not a cloud assembly (no manifest.json): give a cdk.out directory or an app command`);
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf-8'));
  const out: AssemblyStack[] = [];
  for (const [id, artifact] of Object.entries<any>(manifest.artifacts ?? {})) {
    if (artifact.type === 'cdk:cloud-assembly') {
      out.push(...assemblyStacks(path.join(dir, artifact.properties.directoryName)));
    } else if (artifact.type === 'aws:cloudformation:stack') {
      const [, account, region] = /^aws:\/\/([^/]+)\/(.+)$/.exec(artifact.environment ?? '') ?? [];
      const template = JSON.parse(fs.readFileSync(path.join(dir, artifact.properties.templateFile), 'utf-8'));
      out.push({ name: artifact.properties.stackName ?? id, account, region, template });
    }
  }
  return out;
}

/** Finds the workflows of the assembly in `dir` and pairs them. */
export function planDrill(dir: string): DrillPlan {
  const stacks = assemblyStacks(dir);
  const found: DeclaredWorkflow[] = [];
  const cannot: string[] = [];
  for (const s of stacks) {
    // An env-agnostic stack's environment is aws://unknown-account/unknown-region.
    if (!/^\d{12}$/.test(s.account ?? '') || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(s.region ?? '')) {
      cannot.push(`stack ${s.name} has no explicit account and region (env-agnostic): cross-region workflows need both known at synth`);
      continue;
    }
    for (const [logicalId, r] of Object.entries<any>(s.template.Resources ?? {})) {
      const description = r.Metadata?.[WORKFLOW_METADATA];
      if (r.Type === 'AWS::StepFunctions::StateMachine' && description) {
        found.push({ stackName: s.name, region: s.region, account: s.account, logicalId, description });
      }
    }
  }
  const exportFlows = found.filter((w) => w.description.kind === 'scheduled-export');
  const restores = found.filter((w) => w.description.kind === 'standby-restore');
  const pairs: DrillPair[] = [];
  for (const e of exportFlows) {
    const name = `${e.stackName}/${e.logicalId}`;
    if (typeof e.description.snapshotPrefix !== 'string') {
      cannot.push(`export workflow ${name}: its snapshot prefix is not known at synth time`);
      continue;
    }
    const matching = restores.filter((r) => r.description.snapshotPrefix === e.description.snapshotPrefix
      && r.region === e.description.replicaRegion);
    if (matching.length === 0) {
      cannot.push(`export workflow ${name} (prefix ${e.description.snapshotPrefix}): no StandbyRestore in ${e.description.replicaRegion} restores its prefix, so there is no recovery to drill`);
      continue;
    }
    if (matching.length > 1) {
      cannot.push(`export workflow ${name}: ${matching.length} StandbyRestore workflows restore its prefix; the drill fails over one at a time, so it drills the first (${matching[0].stackName}/${matching[0].logicalId})`);
    }
    pairs.push({ exportWorkflow: e, restoreWorkflow: matching[0] });
  }
  for (const r of restores) {
    if (!pairs.some((p) => p.restoreWorkflow === r)) {
      cannot.push(`restore workflow ${r.stackName}/${r.logicalId} (prefix ${r.description.snapshotPrefix}): no ScheduledSnapshotExport in this app exports that prefix to its region`);
    }
  }
  if (found.length === 0) {
    cannot.push('the app declares no ScheduledSnapshotExport or StandbyRestore workflow of this library (state machines with cdk-elasticache-backup:workflow metadata)');
  }
  return { stacks: stacks.map(({ name, region, account }) => ({ name, region, account })), pairs, cannot };
}

/** A workflow as deployed: its state machine's ARN and its description with references resolved. */
export interface DeployedWorkflow {
  readonly region: string;
  readonly stateMachineArn: string;
  readonly description: Record<string, any>;
}

/** Resolves a declared workflow against its stack as deployed in `provider`. */
export function resolveWorkflow(provider: LocalProvider, w: DeclaredWorkflow): DeployedWorkflow {
  const stack = provider.cloudformation(w.region).find(w.stackName);
  if (!stack || stack.deleted) throw new Error(`stack ${w.stackName} is not deployed in ${w.region}`);
  const d = new Deployment(stack, w.region, w.account);
  const arn = d.refs.get(w.logicalId);
  if (!arn) throw new Error(`state machine ${w.logicalId} of ${w.stackName} was not created`);
  return { region: w.region, stateMachineArn: arn, description: d.resolve(w.description) };
}
