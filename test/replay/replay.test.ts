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
    // The recorded ids (child workflow ids derive from them); runReplayHistories reads the CLI's
    // JSON format itself and yields one result per history, with an error on any non-determinism.
    const recorded = histories.map(({ workflowId: file, history }) => {
      const first = (
        history as { events: { workflowExecutionStartedEventAttributes?: { workflowId?: string } }[] }
      ).events[0];
      return { workflowId: first?.workflowExecutionStartedEventAttributes?.workflowId ?? file, history };
    });
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories(options, recorded)) {
      replayed += 1;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(histories.length);
  });

  it('a workflow that changed shape is caught (the guard can fail)', async () => {
    const { code } = await bundleWorkflowCode({
      workflowsPath: path.join(__dirname, '../support/changed-health-check.ts'),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error },
    });
    const recorded = histories.find((h) => h.workflowId === 'health-check-ha-connected.json');
    if (!recorded) throw new Error('missing recorded history');
    const results = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: { code } }, [
      { workflowId: 'changed', history: recorded.history },
    ]))
      results.push(result);
    expect(results).toHaveLength(1);
    expect(results[0]?.error).toBeInstanceOf(DeterminismViolationError);
  });
});
