import { patched } from '@temporalio/workflow';
import type { ClusterSpec, HostSpec, Role } from '../../src/model/cluster';
import {
  type ComposeVariant,
  composeCommand,
  composeFileOf,
  composePsCommand,
  DETECT_COMPOSE,
  hostComposeCall,
  psCommand,
} from '../../src/model/commands';
import {
  DOCKER_VERSION,
  dirModesCommand,
  fileSha256Command,
  makeDirCommand,
} from '../../src/model/host-commands';
import type { Resolution } from '../../src/model/inventory';
import type { PlanStep } from '../api';

/** The first step of every plan: the cluster resolved from the worker's inventory, and its hashes. */
export function resolveStep(cluster: string, resolution?: Resolution): PlanStep {
  return {
    stage: 'resolve cluster',
    note: resolution
      ? `cluster ${cluster} from the inventory ${resolution.source}: spec sha256 ${resolution.specHash}${resolution.policyHash ? `, policy sha256 ${resolution.policyHash}` : ''}`
      : `cluster ${cluster} from the worker's inventory (not resolved yet: the rest of the plan follows)`,
  };
}

export const SERVICE_OF_ROLE: Record<Role, 'waweb' | 'master' | 'wacore'> = {
  webapp: 'waweb',
  master: 'master',
  coreapp: 'wacore',
};

/** Compose variants by host, known after preflight; before it, commands are shown for v1. */
export type Variants = ReadonlyMap<string, ComposeVariant>;

/** Said on compose steps while the host's compose is not detected yet. */
export const VARIANT_AT_PREFLIGHT =
  'shown for docker-compose (v1); the compose of each host is detected at preflight (v2: docker compose)';

const variantNote = (variants: Variants | undefined, host: string, note?: string): string | undefined =>
  variants?.has(host) ? note : [note, VARIANT_AT_PREFLIGHT].filter((n): n is string => Boolean(n)).join('; ');

/** The `up -d` commands for every host of the given roles, in role order. */
export function upSteps(
  cluster: ClusterSpec,
  version: string,
  roles: Role[] = ['webapp', 'master', 'coreapp'],
  variants?: Variants,
): PlanStep[] {
  return roles.flatMap((role) =>
    cluster.hosts
      .filter((h) => h.roles.includes(role))
      .map((h) => ({
        stage: `start ${SERVICE_OF_ROLE[role]}`,
        host: h.name,
        command: composeCommand(hostComposeCall(cluster, h.name, version, variants?.get(h.name)), [
          'up',
          '-d',
          SERVICE_OF_ROLE[role],
        ]),
      })),
  );
}

/** The first SSH stage: a key exchange per host against its pinned key, closed before logging in. */
export const hostKeySteps = (hosts: HostSpec[]): PlanStep[] =>
  hosts.map((h) => ({
    stage: 'host keys',
    host: h.name,
    note: `SSH key exchange with ${h.address}:${h.port}, closed before logging in: the key must be ssh.knownHosts.${h.name}`,
  }));

/** Preflight per host: Docker answers, which compose is there, the media mount mode. */
export const preflightSteps = (cluster: ClusterSpec, hosts: HostSpec[]): PlanStep[] =>
  hosts.flatMap((h) => [
    { stage: 'preflight', host: h.name, command: DOCKER_VERSION, note: 'Docker answers' },
    {
      stage: 'preflight',
      host: h.name,
      command: DETECT_COMPOSE,
      note: `the compose found is used for every compose command on ${h.name}`,
    },
    ...(cluster.media?.hostPath
      ? [
          {
            stage: 'preflight',
            host: h.name,
            command: dirModesCommand(cluster.media.hostPath),
            note: 'the media directory and its folders must have mode 755',
          },
        ]
      : []),
  ]);

/** db.env and the compose file in the work dir, each sent only when its sha256 differs. */
export const uploadSteps = (cluster: ClusterSpec, hosts: HostSpec[]): PlanStep[] => {
  const files = [`${cluster.workDir}/${composeFileOf(cluster)}`, `${cluster.workDir}/db.env`];
  const media = cluster.media?.hostPath ? ` (media volumes rewritten to ${cluster.media.hostPath})` : '';
  return hosts.flatMap((h) => [
    { stage: 'upload', host: h.name, command: makeDirCommand(cluster.workDir) },
    ...files.map((f, i) => ({
      stage: 'upload',
      host: h.name,
      command: fileSha256Command(f),
      note: `${f}${i === 0 ? media : ''} sent only when its sha256 differs: SFTP to a temporary name, sha256 checked, renamed into place`,
    })),
  ]);
};

/**
 * Runs started before `ps` asked the Docker daemon showed compose's own `ps` in their plan, and a
 * decision signs the plan's text: they keep showing it, so their approvals still match on replay.
 */
export const PS_FROM_DAEMON_PATCH = 'ps-from-daemon';

/**
 * `ps` (container states) on each host, under `stage`, for the compose each host has. Only from
 * workflow code (not a query handler): it asks `patched()`.
 */
export const psSteps = (
  cluster: ClusterSpec,
  hosts: HostSpec[],
  version: string,
  stage: string,
  note: string,
  variants?: Variants,
): PlanStep[] =>
  hosts.map((h) => ({
    stage,
    host: h.name,
    command: (patched(PS_FROM_DAEMON_PATCH) ? psCommand : composePsCommand)(
      hostComposeCall(cluster, h.name, version, variants?.get(h.name)),
    ),
    ...withNote(variantNote(variants, h.name, note)),
  }));

/** Compose steps (ps, up): say on those of hosts not preflighted yet that the variant is still to be detected. */
export const noteVariants = (steps: PlanStep[], variants?: Variants): PlanStep[] =>
  steps.map((s) => (s.host ? { ...s, ...withNote(variantNote(variants, s.host, s.note)) } : s));

const withNote = (note: string | undefined) => (note ? { note } : {});
