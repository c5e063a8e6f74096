// The plan of a settingsRestore run: the backup found and verified, the gate, the restore, the
// restart of every Coreapp and the health gate.
import type { FoundBackup } from '../../activities/settings-backups';
import type { OperableCluster } from '../../src/model/cluster';
import { composeCommand, hostComposeCall } from '../../src/model/commands';
import type { SettingsRestoreInput } from '../../src/model/inputs';
import type { PlanStep } from '../api';
import { hostsWithRole } from '../lib/hosts';
import type { Variants } from '../lib/plan';

const choiceText = (b: SettingsRestoreInput['backup']) =>
  b.runId ? `the backup taken by run ${b.runId}` : `the backup with sha256 ${b.sha256}`;

export function restorePlan(
  input: SettingsRestoreInput,
  cluster: OperableCluster,
  found: FoundBackup | undefined,
  variants: Variants,
): PlanStep[] {
  return [
    {
      stage: 'find backup',
      note: found
        ? `${found.path}: sha256 ${found.sha256} verified on the worker, taken on v${found.version}${found.runId ? ` by run ${found.runId}` : ''}`
        : `${choiceText(input.backup)} among the worker's backups of cluster ${cluster.name}, its sha256 verified`,
    },
    { stage: 'approval', note: 'gate "restore"' },
    {
      stage: 'restore settings',
      api: 'POST /v1/settings/restore',
      note: 'the backup and the backup password (inventory backup.passwordRef, read on the worker)',
    },
    ...(input.restartCoreapps
      ? [
          ...hostsWithRole(cluster, 'coreapp').map((h) => ({
            stage: 'restart coreapps',
            host: h.name,
            command: composeCommand(hostComposeCall(cluster, h.name, cluster.version, variants.get(h.name)), [
              'restart',
              'wacore',
            ]),
          })),
          { stage: 'health after restore', note: `registered and healthy within ${input.timeouts.health}` },
        ]
      : [
          {
            stage: 'restart coreapps',
            note: 'left to the operator (restartCoreapps: false): docker restart each Coreapp',
          },
        ]),
  ];
}
