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
 * The compose project's name, as compose itself resolves it, into `$p`: COMPOSE_PROJECT_NAME from
 * the environment, else from the work dir's `.env`, else the work dir's name (v1: the physical
 * path, as Python's getcwd gives it; v2: the logical one, as Go's Getwd gives it), lowercased and
 * kept to `[a-z0-9_-]` (v2 also drops leading `-` and `_`); `default` for `/`.
 */
function projectNameScript(variant: ComposeVariant): string {
  const fromEnvFile = `sed -n 's/^[[:space:]]*COMPOSE_PROJECT_NAME=//p' .env 2>/dev/null | tail -n 1 | tr -d '\\042\\047'`;
  const dir = variant === 'v2' ? '"$(pwd -L)"' : '"$(pwd -P)"';
  const trimLead = variant === 'v2' ? " | sed 's/^[-_]*//'" : '';
  return [
    'p=$COMPOSE_PROJECT_NAME',
    `[ -n "$p" ] || p=$(${fromEnvFile})`,
    `[ -n "$p" ] || { if [ ${dir} = / ]; then p=default; else p=$(basename ${dir}); fi; }`,
    `p=$(printf %s "$p" | tr '[:upper:]' '[:lower:]' | tr -cd 'a-z0-9_-'${trimLead})`,
  ].join('; ');
}

/**
 * The project's containers, stopped ones and one-off `run`s too (as `compose ps -a`), then `docker
 * inspect`: the same structured answer for v1 and v2. Asked of the Docker daemon by the labels
 * compose puts on every container (project, service) rather than through compose, which would
 * start Python (v1) and parse the compose file for a list the daemon already has: ~2 s a call on
 * the lab against ~0.1 s.
 */
export function psCommand(call: ComposeCall, service?: string): string {
  const byService = service
    ? ` ${shellCommand(['--filter', `label=com.docker.compose.service=${service}`])}`
    : '';
  const list = `docker ps -a -q --no-trunc --filter "label=com.docker.compose.project=$p"${byService}`;
  return inspectIdsCommand(
    `cd ${shellQuote(call.workDir)} && { ${projectNameScript(call.variant)}; ${list}; }`,
  );
}

/**
 * The `ps` the plan showed before psCommand asked the daemon: compose's own `ps -a -q`. Kept for the
 * plans of runs started then, whose approvals signed that text (workflows/lib/plan.ts).
 */
export function composePsCommand(call: ComposeCall, service?: string): string {
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
