import { existsSync } from 'node:fs';
import path from 'node:path';
import { LAB_DIR, TEST_TIMING, TIMING_ENV } from '../../lab/paths';

/**
 * The lab tests bring the lab up themselves (idempotently). `lab up` defaults to the product's
 * timing (unhealthy_interval 30 s); the tests ask for short values here, through the environment
 * every lab test file inherits, so a takeover takes seconds. If this run brought the lab up, take it
 * down at the end (down fails if anything is left behind); a lab that was already up (a
 * developer's) is kept. WABA_LAB_KEEP=1 keeps it for debugging.
 */
export default async function setup() {
  process.env[TIMING_ENV.unhealthyInterval] ??= String(TEST_TIMING.unhealthyInterval);
  process.env[TIMING_ENV.heartbeatInterval] ??= String(TEST_TIMING.heartbeatInterval);
  const wasUp = existsSync(path.join(LAB_DIR, 'lab.json'));
  return async () => {
    if (wasUp || process.env.WABA_LAB_KEEP === '1' || !existsSync(path.join(LAB_DIR, 'lab.json'))) return;
    const { down } = await import('../../lab/lab');
    await down(() => {});
  };
}
