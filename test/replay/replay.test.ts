import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { describe, expect, inject, it } from 'vitest';

const dir = path.join(__dirname, '../histories');
const histories = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((file) => ({
    workflowId: file,
    history: JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as unknown,
  }));

describe('replay of recorded histories', () => {
  it('has histories to replay', () => {
    expect(histories.map((h) => h.workflowId)).toEqual(
      expect.arrayContaining(['health-check-ha-connected.json', 'health-check-invalid-input.json']),
    );
  });

  it('today’s workflow code replays every recorded history without a determinism error', async () => {
    const options = { workflowBundle: { codePath: inject('workflowBundlePath') } };
    for (const { workflowId: file, history } of histories) {
      // The recorded id (child workflow ids derive from it); runReplayHistory reads the CLI's JSON
      // format itself and throws on any non-determinism.
      const first = (
        history as { events: { workflowExecutionStartedEventAttributes?: { workflowId?: string } }[] }
      ).events[0];
      const workflowId = first?.workflowExecutionStartedEventAttributes?.workflowId ?? file;
      await expect(Worker.runReplayHistory(options, history, workflowId), file).resolves.toBeUndefined();
    }
  });

  it('a workflow that changed shape is caught (the guard can fail)', async () => {
    const { code } = await bundleWorkflowCode({
      workflowsPath: path.join(__dirname, '../support/changed-health-check.ts'),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error },
    });
    const recorded = histories.find((h) => h.workflowId === 'health-check-ha-connected.json');
    if (!recorded) throw new Error('missing recorded history');
    await expect(
      Worker.runReplayHistory({ workflowBundle: { code } }, recorded.history),
    ).rejects.toBeInstanceOf(DeterminismViolationError);
  });
});
