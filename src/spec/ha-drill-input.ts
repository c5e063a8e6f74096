import { z } from 'zod';
import { ApprovalPolicy, Duration, durationMs, Identity } from './approvals';
import { Name } from './common';
import { OperableCluster } from './runbook-inputs';

/** `connected` (the Coreapp connected when the drill starts) or the name of a Coreapp host. */
export const DrillTarget = z.union([z.literal('connected'), Name], {
  error: 'expected "connected" or the name of a Coreapp host',
});

const TIMEOUT_DEFAULTS = { takeover: '3m', rejoin: '5m', health: '5m' };

export const HaDrillInput = z
  .strictObject({
    cluster: OperableCluster,
    target: DrillTarget,
    /** How fast a standby must take over for the drill to pass, e.g. `45s`. */
    takeoverSlo: Duration,
    approvals: ApprovalPolicy,
    requestedBy: Identity,
    /** takeover: give up (and start the stopped Coreapp again); rejoin: back as a standby; health: final. */
    timeouts: z
      .strictObject({
        takeover: Duration.default(TIMEOUT_DEFAULTS.takeover),
        rejoin: Duration.default(TIMEOUT_DEFAULTS.rejoin),
        health: Duration.default(TIMEOUT_DEFAULTS.health),
      })
      .default(TIMEOUT_DEFAULTS),
  })
  .superRefine((input, ctx) => {
    const ms = (d: string) => (Duration.safeParse(d).success ? durationMs(d) : Number.NaN);
    if (input.target !== 'connected') {
      const host = input.cluster.hosts.find((h) => h.name === input.target);
      if (!host) {
        ctx.addIssue({
          code: 'custom',
          path: ['target'],
          message: `${input.target} is not a host of cluster ${input.cluster.name}`,
        });
      } else if (!host.roles.includes('coreapp')) {
        ctx.addIssue({
          code: 'custom',
          path: ['target'],
          message: `${input.target} is not a Coreapp host (roles: ${host.roles.join(', ')})`,
        });
      }
    }
    if (ms(input.takeoverSlo) === 0)
      ctx.addIssue({ code: 'custom', path: ['takeoverSlo'], message: 'must be longer than 0' });
    if (ms(input.timeouts.takeover) < ms(input.takeoverSlo)) {
      ctx.addIssue({
        code: 'custom',
        path: ['timeouts', 'takeover'],
        message: `must be at least takeoverSlo (${input.takeoverSlo}), or a slow takeover could not be measured`,
      });
    }
  });
export type HaDrillInput = z.infer<typeof HaDrillInput>;
