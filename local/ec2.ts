/**
 * EC2, as far as the AWS CDK CLI asks it: DescribeAvailabilityZones, the context lookup behind
 * `stack.availabilityZones` (and so behind an `ec2.Vpc` in a stack with an explicit account and
 * region), over EC2's query protocol (`Version=2016-11-15`; results in lower-camel-case elements,
 * lists as `<item>`; errors as `<Response><Errors><Error>`). The CLI keeps the zones whose state is
 * `available` (aws-cdk toolkit-lib, context-providers/availability-zones.ts). Every region has three
 * zones, `<region>a` to `<region>c`; the provider has no VPCs, subnets or instances, and answers any
 * other action with EC2's `InvalidAction`.
 */
import { randomUUID } from 'crypto';
import { ServiceError } from './elasticache/query';

export const EC2_XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const ZONES = ['a', 'b', 'c'];

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The zone id AWS gives the n-th zone: the region's short form and `az<n>` (e.g. use1-az1; the mapping of names to ids differs per account in AWS). */
function zoneId(region: string, n: number): string {
  const [area, direction, number] = region.split('-');
  return `${area}${(direction ?? '').slice(0, 1)}${number ?? ''}-az${n + 1}`;
}

/** Answers one EC2 query request (the form-encoded body) for `region`. */
export function handleEc2(region: string, body: string): string {
  const params = new URLSearchParams(body);
  const action = params.get('Action') ?? '';
  if (action !== 'DescribeAvailabilityZones') {
    throw new ServiceError('InvalidAction', `The action ${action || '(none)'} is not valid for this web service.`);
  }
  const items = ZONES.map((letter, n) => `<item><zoneName>${escape(region + letter)}</zoneName><zoneState>available</zoneState>`
    + `<regionName>${escape(region)}</regionName><zoneId>${escape(zoneId(region, n))}</zoneId><zoneType>availability-zone</zoneType>`
    + '<optInStatus>opt-in-not-required</optInStatus><messageSet/></item>').join('');
  return `<?xml version="1.0" encoding="UTF-8"?><DescribeAvailabilityZonesResponse xmlns="${EC2_XMLNS}"><requestId>${randomUUID()}</requestId>`
    + `<availabilityZoneInfo>${items}</availabilityZoneInfo></DescribeAvailabilityZonesResponse>`;
}

/** An error in EC2's shape. */
export function ec2ErrorXml(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${escape(code)}</Code><Message>${escape(message)}</Message></Error></Errors>`
    + `<RequestID>${randomUUID()}</RequestID></Response>`;
}
