// What `watch` prints for a wait's heartbeat details: a health gate's verdict and reasons, the
// containers not running yet, errors; nothing for a host step's heartbeat.
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { loadDataConverter } from '@temporalio/common/lib/internal-non-workflow';
import { describe, expect, it } from 'vitest';
import { pendingWaits, waitLine, withoutPollCount } from '../../src/cli/wait-progress';
import { AesGcmCodec } from '../../src/codec/aes-gcm';

describe('wait progress lines', () => {
  it('a health wait: what it waits for, the verdict and its reasons, the poll', () => {
    const line = waitLine({
      poll: 7,
      what: '2 Coreapp(s) connected',
      summary: {
        verdict: 'degraded',
        reasons: ['core2:abc reports error 1011 Service not ready'],
        nodes: [],
      },
    });
    expect(line).toBe(
      'health "2 Coreapp(s) connected": degraded (core2:abc reports error 1011 Service not ready) (poll 7)',
    );
    expect(withoutPollCount(line ?? '')).toBe(
      'health "2 Coreapp(s) connected": degraded (core2:abc reports error 1011 Service not ready)',
    );
  });

  it('a health wait whose reads fail: the last error, and the last verdict read before', () => {
    expect(waitLine({ poll: 2, what: 'registered and healthy', error: 'wabaHealth: ECONNREFUSED' })).toBe(
      'health "registered and healthy": no answer yet; last error: wabaHealth: ECONNREFUSED (poll 2)',
    );
    expect(
      waitLine({
        poll: 9,
        what: 'registered and healthy',
        error: 'wabaHealth: timeout',
        summary: { verdict: 'ha-connected', reasons: [] },
      }),
    ).toBe('health "registered and healthy": ha-connected; last error: wabaHealth: timeout (poll 9)');
  });

  it('a containers wait: the services not running yet, and the hosts whose ps failed', () => {
    expect(waitLine({ poll: 3, missing: ['core1/wacore', 'core2/wacore'], errors: {} })).toBe(
      'not running yet: core1/wacore, core2/wacore (poll 3)',
    );
    expect(waitLine({ poll: 4, missing: [], errors: { web1: 'ssh: connect ETIMEDOUT' } })).toBe(
      'every container running; web1: ssh: connect ETIMEDOUT (poll 4)',
    );
  });

  it('nothing for heartbeats that are not a poll reading, or are malformed', () => {
    for (const details of [
      'compose up -d waweb on web1',
      undefined,
      null,
      42,
      [],
      { what: 'no poll count' },
      { poll: '3', missing: ['x'] },
      { poll: 1 },
      { poll: 1, missing: 'not a list' },
    ])
      expect(waitLine(details), JSON.stringify(details)).toBeUndefined();
  });

  it('one line, bounded, whatever the reasons', () => {
    const line = waitLine({
      poll: 1,
      what: 'x',
      summary: { verdict: 'degraded', reasons: Array.from({ length: 200 }, (_, i) => `node${i}\nis down`) },
    });
    expect(line).toBeDefined();
    expect(line?.includes('\n')).toBe(false);
    expect(line?.length).toBeLessThanOrEqual(400);
  });
});

describe('pendingWaits', () => {
  const reading = { poll: 3, what: 'registered and healthy', summary: { verdict: 'degraded' } };
  const codec = new AesGcmCodec([{ id: 'k1', key: randomBytes(32) }]);
  const clientWith = (payloadCodecs: AesGcmCodec[]) =>
    ({ options: { loadedDataConverter: loadDataConverter({ payloadCodecs }) } }) as unknown as Client;
  const pending = async () => [
    {
      activityId: '7',
      activityType: { name: 'waitWabaHealth' },
      heartbeatDetails: {
        payloads: await codec.encode([defaultPayloadConverter.toPayload(reading) as Payload]),
      },
    },
  ];

  it('reads an encrypted reading with the codec key', async () => {
    const [wait] = await pendingWaits(clientWith([codec]), await pending());
    expect(wait).toMatchObject({ activity: 'waitWabaHealth', details: reading });
    expect(wait?.line).toBe('health "registered and healthy": degraded (poll 3)');
  });

  it('says so, naming the likely cause, when the reading cannot be decoded here', async () => {
    const waits = await pendingWaits(clientWith([]), await pending());
    expect(waits).toHaveLength(1);
    expect(waits[0]?.details).toBeUndefined();
    expect(waits[0]?.line).toMatch(
      /^reading not decodable here \(.*binary\/encrypted.*\); is WABA_CODEC_KEYS set as on the worker\?$/,
    );
  });
});
