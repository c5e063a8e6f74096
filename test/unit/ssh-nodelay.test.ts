// Pooled SSH connections turn Nagle's algorithm off (a real sshd on 127.0.0.1, test/support/sshd.ts):
// with it on, each small exchange of a command waited for the peer's delayed ACK, ~90 ms an exec on
// the lab instead of ~3 (bench section 4 prints the figure; no timing is asserted here).
import { existsSync } from 'node:fs';
import { Client } from 'ssh2';
import { describe, expect, it, vi } from 'vitest';
import { SSHD, useLoopbackPool } from '../support/sshd';

describe.skipIf(!existsSync(SSHD))('SSH connections without Nagle (a real sshd)', () => {
  const loopback = useLoopbackPool();

  it('sets TCP_NODELAY on every new connection, once', async () => {
    const spy = vi.spyOn(Client.prototype, 'setNoDelay');
    try {
      const a = await loopback.pool.exec(loopback.sshd.target, 'echo one');
      const b = await loopback.pool.exec(loopback.sshd.target, 'echo two');
      expect([a.stdout, b.stdout]).toEqual(['one\n', 'two\n']);
      expect(loopback.pool.counters.handshakes).toBe(1);
      expect(spy.mock.calls).toEqual([[true]]);
    } finally {
      spy.mockRestore();
    }
  });
});
