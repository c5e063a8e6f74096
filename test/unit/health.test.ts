import { describe, expect, it } from 'vitest';
import { type HealthBody, summarizeHealth } from '../../src/model/health';
import seed from '../fixtures/seed-health.json';

// The four health answers printed in the seed (steps A7, A9, B2, B4), copied verbatim.
const samples = seed as Record<string, HealthBody>;

describe('summarizeHealth on the seed examples', () => {
  it('A7: before registration the primary master is unregistered', () => {
    const s = summarizeHealth(samples['A7-before-registration'] as HealthBody);
    expect(s.verdict).toBe('unregistered');
    expect(s.nodes).toHaveLength(4);
    expect(s.nodes[0]).toEqual({
      host: 'your-master1-hostname',
      containerId: '85cdd51506fd',
      role: null,
      gatewayStatus: null,
      errorCode: 1011,
      errorTitle: 'Service not ready',
    });
    expect(s.nodes[1]).toMatchObject({ role: 'primary_master', gatewayStatus: 'unregistered' });
  });

  it('A9: exactly one Coreapp connected is ha-connected', () => {
    const s = summarizeHealth(samples['A9-ha-registered'] as HealthBody);
    expect(s.verdict).toBe('ha-connected');
    expect(s.connectedCoreapps).toBe(1);
    expect(s.reasons).toEqual([]);
  });

  it('B2: two shards connect two Coreapps (the primary master connected too is accepted)', () => {
    const s = summarizeHealth(samples['B2-two-shards'] as HealthBody);
    expect(s.verdict).toBe('multiconnect-connected:2');
  });

  it('B4: a third Coreapp as standby keeps two connected', () => {
    const s = summarizeHealth(samples['B4-two-shards-plus-standby'] as HealthBody);
    expect(s.verdict).toBe('multiconnect-connected:2');
    expect(s.nodes.filter((n) => n.role === 'coreapp' && n.gatewayStatus === 'disconnected')).toHaveLength(1);
  });
});

describe('summarizeHealth when something is wrong', () => {
  const node = (gateway_status: string, role: string) => ({ gateway_status, role });

  it('no connected Coreapp after registration is degraded', () => {
    const s = summarizeHealth({
      health: { 'm1:aaa': node('disconnected', 'primary_master'), 'c1:bbb': node('disconnected', 'coreapp') },
    });
    expect(s.verdict).toBe('degraded');
    expect(s.reasons).toEqual(['no Coreapp is connected']);
  });

  it('a node with errors after registration is degraded and named', () => {
    const s = summarizeHealth({
      health: {
        'c1:bbb': node('connected', 'coreapp'),
        'c2:ccc': { errors: [{ code: 1011, title: 'Service not ready', details: 'x' }] },
      },
    });
    expect(s.verdict).toBe('degraded');
    expect(s.reasons).toEqual(['c2:ccc reports error 1011 Service not ready']);
  });

  it('uninitialized and connecting nodes are reasons', () => {
    const s = summarizeHealth({
      health: {
        'c1:bbb': node('connected', 'coreapp'),
        'c2:ccc': node('uninitialized', 'coreapp'),
        'm1:ddd': node('connecting', 'primary_master'),
      },
    });
    expect(s.verdict).toBe('degraded');
    expect(s.reasons).toEqual(['c2:ccc (coreapp) is uninitialized', 'm1:ddd (primary_master) is connecting']);
  });

  it('an empty health object is degraded', () => {
    expect(summarizeHealth({ health: {} }).reasons).toEqual(['the health response lists no node']);
  });

  it('an unreadable entry is reported, not thrown', () => {
    const s = summarizeHealth({ health: { 'c1:bbb': node('connected', 'coreapp'), 'x:1': 42 } });
    expect(s.verdict).toBe('degraded');
    expect(s.reasons[0]).toContain('unreadable health entry');
  });

  it('single-instance shape', () => {
    expect(summarizeHealth({ health: { gateway_status: 'connected' } }).verdict).toBe('ha-connected');
    expect(summarizeHealth({ health: { gateway_status: 'unregistered' } }).verdict).toBe('unregistered');
  });
});
