import { describe, expect, it } from 'vitest';
import { runSummary } from '../../src/spec/summary';

describe('runSummary', () => {
  it('names the runbook, cluster and target version or host', () => {
    const cluster = { name: 'prod', version: '2.29.1' };
    expect(runSummary('upgrade', { cluster, toVersion: '2.29.3' })).toBe('upgrade prod -> v2.29.3');
    expect(runSummary('haDrill', { cluster, target: 'core2' })).toBe('haDrill prod target core2');
    expect(runSummary('haSetup', { cluster })).toBe('haSetup prod (v2.29.1)');
    expect(runSummary('healthCheck', { cluster: { name: 'lab' } })).toBe('healthCheck lab');
    expect(runSummary('upgrade', 'not an object')).toBe('upgrade ?');
  });
});
