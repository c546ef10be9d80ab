/**
 * AWS::Route53::HostedZone: public or private zones through the Route 53 API. Name requires
 * replacement (resource reference); other changes are not applied in place by the local provider.
 */
import { CreateHostedZoneCommand, DeleteHostedZoneCommand } from '@aws-sdk/client-route-53';
import { ResourceFailure, ResourceHandler } from './types';
import { sameValue } from '../template';

export const route53HostedZone: ResourceHandler = {
  properties: ['Name', 'HostedZoneConfig', 'VPCs'],
  replaceOn: ['Name'],

  async create(ctx, props) {
    const vpc = props.VPCs?.[0];
    const zone = await ctx.clients.route53.send(new CreateHostedZoneCommand({
      Name: props.Name,
      CallerReference: `${ctx.stackId}-${ctx.logicalId}-${Date.now()}`,
      HostedZoneConfig: { Comment: props.HostedZoneConfig?.Comment, PrivateZone: vpc !== undefined },
      VPC: vpc ? { VPCId: String(vpc.VPCId), VPCRegion: vpc.VPCRegion } : undefined,
    }));
    const zoneId = zone.HostedZone!.Id!.replace('/hostedzone/', '');
    return {
      physicalId: zoneId,
      attributes: { Id: zoneId, NameServers: zone.DelegationSet?.NameServers ?? [], Arn: `arn:aws:route53:::hostedzone/${zoneId}` },
    };
  },

  async update(_ctx, current, old, props) {
    const changed = Object.keys({ ...old, ...props }).filter((k) => !sameValue(old[k], props[k]));
    throw new ResourceFailure(`The local provider does not update ${changed.join(', ')} of AWS::Route53::HostedZone in place.`);
    return current;
  },

  async delete(ctx, current) {
    await ctx.clients.route53.send(new DeleteHostedZoneCommand({ Id: current.physicalId })).catch((e) => {
      if (e.name !== 'NoSuchHostedZone') throw e;
    });
  },
};
