/**
 * What the handlers ask CloudFormation about their own stack, so that no decision to delete data is
 * guessed from a custom resource event alone: the stack's status, its current template, and which
 * physical resource a logical id stands for now.
 */
import { DescribeStackResourceCommand, DescribeStacksCommand, GetTemplateCommand } from '@aws-sdk/client-cloudformation';
import { cloudformation } from './clients';

/** The stack's status, e.g. `DELETE_IN_PROGRESS` or `UPDATE_COMPLETE_CLEANUP_IN_PROGRESS`. */
export async function stackStatus(stackId: string): Promise<string> {
  const stack = (await cloudformation().send(new DescribeStacksCommand({ StackName: stackId }))).Stacks?.[0];
  if (!stack?.StackStatus) {
    throw new Error(`CloudFormation did not describe stack ${stackId}`);
  }
  return stack.StackStatus;
}

/**
 * Whether the stack's current template declares `logicalId`. Once an update has reached its cleanup
 * phase the stack's template is the new one (the update itself completed), so a resource the new
 * template no longer has is being removed. (Which template GetTemplate returns during cleanup is not
 * stated in the API reference; if it were the previous one, the resource would be found and the
 * caller would keep what it would otherwise delete, which loses nothing.)
 */
export async function templateDeclares(stackId: string, logicalId: string): Promise<boolean> {
  const body = (await cloudformation().send(new GetTemplateCommand({ StackName: stackId, TemplateStage: 'Original' }))).TemplateBody;
  let template: { Resources?: Record<string, unknown> };
  try {
    template = JSON.parse(body ?? '{}');
  } catch {
    // A YAML template (not one CDK writes): assume the resource is declared, which deletes nothing.
    return true;
  }
  return template.Resources?.[logicalId] !== undefined;
}

/** The physical id the stack's resource `logicalId` stands for now. */
export async function physicalIdOf(stackId: string, logicalId: string): Promise<string | undefined> {
  const answer = await cloudformation().send(new DescribeStackResourceCommand({ StackName: stackId, LogicalResourceId: logicalId }));
  return answer.StackResourceDetail?.PhysicalResourceId;
}
