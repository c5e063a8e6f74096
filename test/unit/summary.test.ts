import { describe, expect, it } from 'vitest';
import { runSummary } from '../../src/model/summary';

describe('runSummary', () => {
  it('names the runbook, cluster and target version or host', () => {
    expect(runSummary('upgrade', { cluster: 'prod', toVersion: '2.29.3' })).toBe('upgrade prod -> v2.29.3');
    expect(runSummary('haDrill', { cluster: 'prod', target: 'core2' })).toBe('haDrill prod target core2');
    expect(runSummary('haSetup', { cluster: 'prod' })).toBe('haSetup prod');
    expect(runSummary('upgrade', 'not an object')).toBe('upgrade ?');
  });

  it('says nothing of values it would have to clean: an inline spec, a hostile target', () => {
    expect(runSummary('healthCheck', { cluster: { name: 'lab' } })).toBe('healthCheck ?');
    expect(runSummary('upgrade', { cluster: 'prod', toVersion: '2.29.3\u001b[2J' })).toBe('upgrade prod');
    expect(runSummary('haDrill', { cluster: 'prod', target: 'x'.repeat(500) })).toBe('haDrill prod');
  });
});
