import { existsSync } from 'node:fs';
import path from 'node:path';
import { LAB_DIR } from '../lab/paths';

/**
 * The lab tests bring the lab up themselves (idempotently). If this run brought it up, take it down
 * at the end and check nothing is left behind; a lab that was already up (a developer's) is kept.
 * WABA_LAB_KEEP=1 keeps it for debugging.
 */
export default async function setup() {
  const wasUp = existsSync(path.join(LAB_DIR, 'lab.json'));
  return async () => {
    if (wasUp || process.env.WABA_LAB_KEEP === '1' || !existsSync(path.join(LAB_DIR, 'lab.json'))) return;
    const { down, leftovers } = await import('../lab/lab');
    await down(() => {});
    const left = await leftovers();
    if (left.length > 0) throw new Error(`scripts/lab down left things behind: ${left.join(', ')}`);
  };
}
