// The plan of an haDrill run: what the drill does, with the target's commands once it is known.
import type { OperableCluster } from '../../src/model/cluster';
import { type ComposeVariant, composeCommand, hostComposeCall } from '../../src/model/commands';
import type { HaDrillInput } from '../../src/model/inputs';
import type { PlanStep } from '../api';

/** Health is read this often while the takeover is measured: the measurement's resolution. */
export const POLL = '1s';
/** The service the drill stops and starts again. */
export const SERVICE = 'wacore';

/** What the drill does; the target's commands once it is known (after the precheck for `connected`). */
export function drillPlan(
  input: HaDrillInput,
  cluster: OperableCluster,
  host: string | undefined,
  variant: ComposeVariant,
): PlanStep[] {
  const { takeoverSlo, timeouts } = input;
  const call = host ? hostComposeCall(cluster, host, cluster.version, variant) : undefined;
  const where = host ? { host } : { note: 'the connected Coreapp, chosen at the health precheck' };
  return [
    { stage: 'health precheck', note: 'healthy, the target connected, a standby Coreapp present' },
    { stage: 'approval', note: 'gate "drill"' },
    {
      stage: `stop ${SERVICE}`,
      ...where,
      ...(call ? { command: composeCommand(call, ['stop', SERVICE]) } : {}),
    },
    {
      stage: 'waiting for takeover',
      note: `a standby connected, health every ${POLL}; SLO ${takeoverSlo}, gives up after ${timeouts.takeover}`,
    },
    {
      stage: `start ${SERVICE}`,
      ...where,
      ...(call ? { command: composeCommand(call, ['up', '-d', SERVICE]) } : {}),
    },
    { stage: 'rejoin', note: `back as a standby within ${timeouts.rejoin}` },
    {
      stage: 'final health',
      note: `as many Coreapps connected as before, no degraded node, within ${timeouts.health}`,
    },
  ];
}
