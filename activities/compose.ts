// Parsing what docker-compose and docker answer on a host.
import type { ComposeVariant } from '../src/spec/commands';

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
