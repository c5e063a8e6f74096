// Keeps the embedded dev server answering. Its SQLite store runs on one connection, and the driver
// the CLI is built with (modernc.org/sqlite v1.34.1) drops a query's open rows when the request's
// context is cancelled just after the first row: the leaked statement keeps the connection's
// interrupt flag set, so every later call fails ("GetNamespace operation failed. Error interrupted
// (9)", seen in CI under load) until a new process opens a new connection. With a database file a
// restart keeps every run; the SDK's workers and clients reconnect on their own.
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import type { DevServer } from './devserver';

export interface WatchdogOptions {
  namespace: string;
  /** Between probes. */
  intervalMs?: number;
  /** A probe (DescribeNamespace, which reads the store) not answered by then is silent. */
  probeTimeoutMs?: number;
  /** Probes in a row the server answered with an error before a restart (the wedge above answers at once). */
  failuresBeforeRestart?: number;
  /**
   * How long the server may stay silent (probes unanswered) before a restart: long, since a machine
   * under load starves the probe as well as the server. A server process that exited is restarted at once.
   */
  silentForMs?: number;
  /** Told why, before each restart. */
  onRestart?(reason: string): void;
  /** Told when a restart did not bring the server back (the watchdog keeps trying). */
  onRestartFailed?(error: unknown): void;
}

/** A probe's outcome: answered, answered with an error, or not answered in time. */
export type Probe = { ok: true } | { ok: false; silent: boolean; error: string };

/** The failures seen since the last answered probe. */
export interface ProbeHistory {
  errorsInARow: number;
  /** When the first unanswered or failed probe of this run of failures came (ms). */
  failingSince?: number;
  lastError?: string;
}

/** Fold one probe into the history; `restart` says why to restart, when it is time. */
export function afterProbe(
  history: ProbeHistory,
  probe: Probe,
  now: number,
  limits: { failuresBeforeRestart: number; silentForMs: number },
): { history: ProbeHistory; restart?: string } {
  if (probe.ok) return { history: { errorsInARow: 0 } };
  const next: ProbeHistory = {
    errorsInARow: probe.silent ? history.errorsInARow : history.errorsInARow + 1,
    failingSince: history.failingSince ?? now,
    lastError: probe.error,
  };
  if (next.errorsInARow >= limits.failuresBeforeRestart) {
    return {
      history: { errorsInARow: 0 },
      restart: `${next.errorsInARow} probes in a row answered with an error, the last: ${probe.error}`,
    };
  }
  if (now - (next.failingSince as number) >= limits.silentForMs) {
    return {
      history: { errorsInARow: 0 },
      restart: `no answer for ${Math.round((now - (next.failingSince as number)) / 1000)} s, the last probe: ${probe.error}`,
    };
  }
  return { history: next };
}

/** The gRPC status code of a call that ran out of time (grpc-js is not a direct dependency). */
const GRPC_DEADLINE_EXCEEDED = 4;

async function probeOnce(address: string, namespace: string, timeoutMs: number): Promise<Probe> {
  let connection: Connection | undefined;
  try {
    // No retry interceptor: the wedge answers UNAVAILABLE, which the SDK's default retries until the
    // deadline, hiding the server's answer behind a DEADLINE_EXCEEDED of its own.
    connection = await Connection.connect({ address, connectTimeout: timeoutMs, interceptors: [] });
    const open = connection;
    await open.withDeadline(Date.now() + timeoutMs, () =>
      open.workflowService.describeNamespace({ namespace }),
    );
    return { ok: true };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    // Only an error the server sent counts as an answer; a deadline or no connection is silence.
    const code = (err as { code?: unknown }).code;
    const silent = connection === undefined || code === GRPC_DEADLINE_EXCEEDED;
    return { ok: false, silent, error };
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

export interface Watchdog {
  /** Restarts done so far. */
  readonly restarts: number;
  stop(): Promise<void>;
}

/** Probe the server every few seconds; restart it when its process died or it stopped answering. */
export function watchDevServer(
  server: Pick<DevServer, 'address' | 'running' | 'restart'>,
  options: WatchdogOptions,
  probe: () => Promise<Probe> = () =>
    probeOnce(server.address, options.namespace, options.probeTimeoutMs ?? 5_000),
): Watchdog {
  const intervalMs = options.intervalMs ?? 3_000;
  const limits = {
    failuresBeforeRestart: options.failuresBeforeRestart ?? 4,
    silentForMs: options.silentForMs ?? 60_000,
  };
  const stopping = new AbortController();
  let restarts = 0;

  const restart = async (reason: string) => {
    options.onRestart?.(reason);
    restarts += 1;
    try {
      await server.restart();
    } catch (err) {
      options.onRestartFailed?.(err);
    }
  };

  const loop = async () => {
    let history: ProbeHistory = { errorsInARow: 0 };
    while (!stopping.signal.aborted) {
      await sleep(intervalMs, undefined, { signal: stopping.signal }).catch(() => undefined);
      if (stopping.signal.aborted) return;
      if (!server.running()) {
        history = { errorsInARow: 0 };
        await restart('its process exited');
        continue;
      }
      const result = await probe();
      if (stopping.signal.aborted) return;
      const next = afterProbe(history, result, Date.now(), limits);
      history = next.history;
      if (next.restart) await restart(next.restart);
    }
  };
  const running = loop();

  return {
    get restarts() {
      return restarts;
    },
    async stop() {
      stopping.abort();
      await running;
    },
  };
}
