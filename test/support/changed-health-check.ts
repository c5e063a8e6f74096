// A deliberately changed healthCheck (a timer before the health call, no patched() guard), used to
// prove that the replay test catches a change in workflow shape.
import { proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../../activities';

const { wabaHealth } = proxyActivities<Activities>({ startToCloseTimeout: '30s' });

export async function healthCheck(input: { cluster: string }): Promise<unknown> {
  await sleep('1s');
  return wabaHealth({ cluster: { name: input.cluster, specHash: '' } });
}
