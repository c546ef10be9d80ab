import { CfnResource, Stack } from 'aws-cdk-lib';

/**
 * Dependencies without aws-cdk-lib's deprecation warnings. aws-cdk-lib renamed
 * `CfnResource#addDependency` to `addResourceDependency` and `Stack#addDependency` to
 * `addStackDependency` (2.26x; the old names warn on every synth), but this library supports
 * aws-cdk-lib from 2.258, which has only the old names: the new one is used when the app's
 * aws-cdk-lib has it.
 */
export function addResourceDependency(source: CfnResource, target: CfnResource): void {
  const renamed = (source as { addResourceDependency?: (target: CfnResource) => void }).addResourceDependency;
  if (typeof renamed === 'function') {
    renamed.call(source, target);
  } else {
    source.addDependency(target);
  }
}

/** `Stack#addStackDependency` where the app's aws-cdk-lib has it, else `Stack#addDependency` (see above). */
export function addStackDependency(source: Stack, target: Stack, reason?: string): void {
  const renamed = (source as { addStackDependency?: (target: Stack, reason?: string) => void }).addStackDependency;
  if (typeof renamed === 'function') {
    renamed.call(source, target, reason);
  } else {
    source.addDependency(target, reason);
  }
}
