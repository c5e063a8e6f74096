import { defineQuery } from '@temporalio/workflow';
import type { ClusterSpec, Role } from '../../src/spec/cluster';
import { composeCommand, hostComposeCall } from '../../src/spec/commands';

/** One step the run will take: where, and the exact remote command when there is one. */
export interface PlanStep {
  stage: string;
  host?: string;
  command?: string;
  note?: string;
}

export const planQuery = defineQuery<PlanStep[]>('plan');

export const SERVICE_OF_ROLE: Record<Role, 'waweb' | 'master' | 'wacore'> = {
  webapp: 'waweb',
  master: 'master',
  coreapp: 'wacore',
};

/** The `up -d` commands for every host of the given roles, in role order. */
export function upSteps(
  cluster: ClusterSpec,
  version: string,
  roles: Role[] = ['webapp', 'master', 'coreapp'],
): PlanStep[] {
  return roles.flatMap((role) =>
    cluster.hosts
      .filter((h) => h.roles.includes(role))
      .map((h) => ({
        stage: `start ${SERVICE_OF_ROLE[role]}`,
        host: h.name,
        command: composeCommand(hostComposeCall(cluster, h.name, version), [
          'up',
          '-d',
          SERVICE_OF_ROLE[role],
        ]),
      })),
  );
}
