// Remote command lines for docker-compose, built in one place and quoted by shellQuote. Pure code:
// workflows use it for the `plan` query, activities to run the same commands. Host and container
// commands live next door (host-commands.ts, container-commands.ts) under the same rule.
import type { ClusterSpec } from './cluster';
import { shellCommand, shellInt, shellQuote } from './shell';

export type ComposeVariant = 'v1' | 'v2';

export interface ComposeCall {
  workDir: string;
  /** File name inside workDir. */
  file: string;
  externalHostname: string;
  version: string;
  variant: ComposeVariant;
}

/** The remote command line: `cd <dir> && EXTERNAL_HOSTNAME=.. WA_API_VERSION=.. docker-compose -f <file> <args>`. */
export function composeCommand(call: ComposeCall, args: string[]): string {
  const binary = call.variant === 'v2' ? ['docker', 'compose'] : ['docker-compose'];
  const env = { EXTERNAL_HOSTNAME: call.externalHostname, WA_API_VERSION: call.version };
  return `cd ${shellQuote(call.workDir)} && ${shellCommand([...binary, '-f', call.file, ...args], env)}`;
}

/**
 * Detect once per host which compose the host has (v1 preferred: it is what the seed uses). v1 is
 * found by its presence only: asking its version starts Python (~0.3 s a host), for nothing we use.
 */
export const DETECT_COMPOSE =
  'if command -v docker-compose >/dev/null 2>&1; then echo v1; ' +
  'elif docker compose version >/dev/null 2>&1; then echo "v2 $(docker compose version --short 2>/dev/null)"; ' +
  'else echo none; fi';

/** `docker inspect` of the ids a command prints, or `[]` when it prints none. */
export function inspectIdsCommand(idsCommand: string): string {
  return `ids=$(${idsCommand}) || exit $?; if [ -z "$ids" ]; then echo '[]'; else docker inspect $ids; fi`;
}

/**
 * `ps -a -q` then `docker inspect`: the same structured answer for v1 and v2. `-a` because v2 lists
 * only running containers without it, and a stopped container still counts (it is not running,
 * and `down` has not removed it); v1 lists stopped ones anyway and with `-a` adds one-off `run`s.
 */
export function psCommand(call: ComposeCall, service?: string): string {
  return inspectIdsCommand(composeCommand(call, ['ps', '-a', '-q', ...(service ? [service] : [])]));
}

/** `logs` with stderr folded in, only the last `maxBytes` kept (the host does the cutting). */
export function composeLogsCommand(call: ComposeCall, args: string[], maxBytes: number): string {
  return `${composeCommand(call, args)} 2>&1 | ${shellCommand(['tail', '-c', shellInt(maxBytes)])}`;
}

/** The compose file's name in the remote work dir: the last part of the worker's path. */
export function composeFileOf(cluster: ClusterSpec): string {
  const file = cluster.compose?.file ?? 'prod-multiconnect-compose.yml';
  return file.slice(file.lastIndexOf('/') + 1);
}

/** How compose is called on one host of the cluster (a spare one too): its work dir, file and EXTERNAL_HOSTNAME. */
export function hostComposeCall(
  cluster: ClusterSpec,
  hostName: string,
  version: string,
  variant: ComposeVariant = 'v1',
): ComposeCall {
  const host = [...cluster.hosts, ...cluster.spareHosts].find((h) => h.name === hostName);
  return {
    workDir: cluster.workDir,
    file: composeFileOf(cluster),
    externalHostname: host?.externalHostname ?? host?.address ?? hostName,
    version,
    variant,
  };
}
