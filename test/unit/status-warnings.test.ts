// A run's warnings (the topology lint's) as an operator reads them: `status`, `watch` and the Web
// UI's details.
import { describe, expect, it } from 'vitest';
import { changes } from '../../src/cli/watch';
import { statusText } from '../../src/client/views';
import type { RunStatus } from '../../workflows/api';
import { renderDetails } from '../../workflows/lib/progress';

const base: RunStatus = {
  runbook: 'multiconnectExpand',
  cluster: 'lab',
  stage: 'health precheck',
  stagesDone: [],
  hosts: {},
  lastError: null,
  updatedAt: '2026-12-01T09:00:00.000Z',
};
const W1 = `cluster lab: Masters: 2 Masters on 2 hosts tolerate 1 host failure; the guide advises "${'x'.repeat(300)}"`;
const W2 = 'cluster lab: Webapps: 1 Webapp on 1 host tolerates 0 host failures';

describe('run warnings', () => {
  it('status, watch and the details show each warning once, whole', () => {
    const warned = { ...base, warnings: [W1] };
    expect(statusText('lab/multiconnectExpand', base, 0)).not.toContain('warning');
    expect(statusText('lab/multiconnectExpand', warned, 0).split('\n')).toContain(`warning: ${W1}`);
    expect(changes('id', base, warned)).toEqual([`warning: ${W1}`]);
    expect(changes('id', warned, { ...warned, warnings: [W1, W2] })).toEqual([`warning: ${W2}`]);
    expect(changes('id', warned, warned)).toEqual([]);
    expect(renderDetails(warned).split('\n')).toContain(`warning: ${W1}`);
  });
});
