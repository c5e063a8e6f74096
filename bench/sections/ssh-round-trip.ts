// Section 4 (with the SSH reuse figures): what one command and one upload cost over a pooled SSH
// connection to a lab host, with Nagle's algorithm on (as it was until 2026-12-02) and off (SshPool's
// default now): each a few small packets, which Nagle held back until the peer's delayed ACK.
import { sshTarget } from '../../activities/remote';
import { SshPool } from '../../activities/ssh';
import { InventoryStore } from '../../src/inventory/store';
import { removeFileCommand } from '../../src/model/host-commands';
import { createSecretResolver } from '../../src/secrets';
import { median, round } from '../stats';

export interface SshRoundTrip {
  host: string;
  /** Medians in ms, each over `samples` sequential calls on one warm connection. */
  nagle: RoundTrips;
  noDelay: RoundTrips;
  samples: number;
}

interface RoundTrips {
  execTrueMs: number;
  dockerVersionMs: number;
  upload2KiBMs: number;
}

async function medianMs(samples: number, call: () => Promise<unknown>): Promise<number> {
  await call(); // the connection and the host's caches warm
  const ms: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    await call();
    ms.push(performance.now() - started);
  }
  return round(median(ms), 1);
}

async function roundTrips(inventoryFile: string, host: string, noDelay: boolean, samples: number) {
  const store = new InventoryStore(inventoryFile);
  const found = store.byName('lab');
  if (!found.ok) throw new Error(`the bench inventory has no cluster lab: ${found.message}`);
  const target = sshTarget(found.entry.cluster, host);
  const pool = new SshPool(createSecretResolver(), { noDelay });
  const dest = `/tmp/waba-bench-upload-${process.pid}`;
  try {
    return {
      execTrueMs: await medianMs(samples, () => pool.exec(target, 'true')),
      dockerVersionMs: await medianMs(samples, () =>
        pool.exec(target, "docker version --format '{{.Server.Version}}'"),
      ),
      upload2KiBMs: await medianMs(samples, () => pool.upload(target, Buffer.alloc(2048, 'x'), dest)),
    };
  } finally {
    await pool.exec(target, removeFileCommand(dest)).catch(() => undefined);
    await pool.close();
  }
}

/** Both settings, one after the other, on the same host. */
export async function sshRoundTrip(
  inventoryFile: string,
  host = 'core1',
  samples = 20,
): Promise<SshRoundTrip> {
  const nagle = await roundTrips(inventoryFile, host, false, samples);
  const noDelay = await roundTrips(inventoryFile, host, true, samples);
  return { host, nagle, noDelay, samples };
}
