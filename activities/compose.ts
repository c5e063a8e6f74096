// Parsing what docker-compose and docker answer on a host.
import type { ComposeVariant } from '../src/model/commands';

/** `v1` or `v2 <version>` (DETECT_COMPOSE's answer); undefined when the host has neither. */
export function parseDetect(output: string): { variant: ComposeVariant; version?: string } | undefined {
  const [variant, version] = output.trim().split(/\s+/);
  if (variant === 'v1' || variant === 'v2') return version ? { variant, version } : { variant };
  return undefined;
}

export interface ContainerState {
  service: string;
  name: string;
  id: string;
  image: string;
  state: string;
  running: boolean;
  exitCode: number;
  restarting: boolean;
}

export function parsePs(json: string): ContainerState[] {
  const raw = JSON.parse(json) as {
    Id: string;
    Name: string;
    Config: { Image: string; Labels?: Record<string, string> };
    State: { Status: string; Running: boolean; ExitCode: number; Restarting: boolean };
  }[];
  return raw.map((c) => ({
    service: c.Config.Labels?.['com.docker.compose.service'] ?? '',
    name: c.Name.replace(/^\//, ''),
    id: c.Id.slice(0, 12),
    image: c.Config.Image,
    state: c.State.Status,
    running: c.State.Running,
    exitCode: c.State.ExitCode,
    restarting: c.State.Restarting,
  }));
}

/** What `docker inspect <container>` says about a job container: enough to tell whether it ended. */
export interface JobState {
  status: string;
  running: boolean;
  restarting: boolean;
  exitCode: number;
}

/** The first container of `docker inspect` output; undefined when there is none (`[]`). */
export function parseJobState(json: string): JobState | undefined {
  const [c] = JSON.parse(json) as {
    State: { Status: string; Running: boolean; ExitCode: number; Restarting: boolean };
  }[];
  if (!c) return undefined;
  return {
    status: c.State.Status,
    running: c.State.Running,
    restarting: c.State.Restarting,
    exitCode: c.State.ExitCode,
  };
}

export type JobVerdict =
  | { kind: 'waiting' }
  | { kind: 'ended'; exitCode: number; why: string }
  | { kind: 'gone' };

/**
 * A dbupgrade job started with EXIT_ON_SUCCESS=FALSE stays up after success and says so in its log;
 * read its state first, then its log tail. The log's "complete" is success; otherwise a container
 * that has exited (or is being restarted after a failure) ends with its exit code, even when it
 * printed no ERROR; a running one that printed ERROR has failed; anything else (running, just
 * created) keeps waiting.
 */
export function dbUpgradeVerdict(logs: string, state: JobState | undefined): JobVerdict {
  if (!state) return { kind: 'gone' };
  if (/upgrade to v[\d.]+ complete/.test(logs))
    return { kind: 'ended', exitCode: 0, why: 'its log says the upgrade is complete' };
  if (state.restarting)
    return {
      kind: 'ended',
      exitCode: state.exitCode || 1,
      why: `it exited ${state.exitCode} and is being restarted`,
    };
  if (state.status === 'exited' || state.status === 'dead')
    return { kind: 'ended', exitCode: state.exitCode, why: `it exited ${state.exitCode} (${state.status})` };
  if (/ERROR/.test(logs)) return { kind: 'ended', exitCode: 1, why: 'its log says ERROR' };
  return { kind: 'waiting' };
}
