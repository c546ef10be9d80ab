/**
 * The dependency shim (src/private/dependencies.ts): the renamed aws-cdk-lib methods when the app's
 * aws-cdk-lib has them (no deprecation warning on newer versions), the old ones on the 2.258 floor.
 */
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { addResourceDependency, addStackDependency } from '../src/private/dependencies';

test('with aws-cdk-lib\'s renamed methods present, they are the ones called', () => {
  const calls: string[] = [];
  const resource = { addResourceDependency: () => calls.push('addResourceDependency'), addDependency: () => calls.push('addDependency') };
  const stack = { addStackDependency: () => calls.push('addStackDependency'), addDependency: () => calls.push('Stack#addDependency') };
  addResourceDependency(resource as unknown as CfnResource, {} as CfnResource);
  addStackDependency(stack as unknown as Stack, {} as Stack, 'why');
  expect(calls).toEqual(['addResourceDependency', 'addStackDependency']);
});

test('on the installed aws-cdk-lib, the dependencies are written either way', () => {
  const app = new App();
  const a = new Stack(app, 'A');
  const b = new Stack(app, 'B');
  const first = new CfnResource(b, 'First', { type: 'AWS::SNS::Topic' });
  const second = new CfnResource(b, 'Second', { type: 'AWS::SNS::Topic' });
  addResourceDependency(second, first);
  addStackDependency(a, b, 'a needs b');
  expect(Template.fromStack(b).toJSON().Resources.Second.DependsOn).toEqual(['First']);
  expect(a.dependencies).toEqual([b]);
});
