// The lab's unsupported-version fault rewrites a MySQL greeting: the new version, a consistent
// length, the rest of the packet (scramble, capabilities) byte for byte.
import { describe, expect, it } from 'vitest';
import { greetingVersion, rewriteGreeting } from '../../lab/mysql-greeting';

function greeting(version: string, rest = Buffer.from([1, 2, 3, 4, 0, 9, 8])): Buffer {
  const body = Buffer.concat([Buffer.from([0x0a]), Buffer.from(version), Buffer.from([0]), rest]);
  return Buffer.concat([Buffer.from([body.length, 0, 0, 0]), body]);
}

describe('the lab MySQL greeting rewrite', () => {
  it('replaces the version and fixes the length, keeping the rest', () => {
    const rest = Buffer.from('scramble-and-capabilities\0tail');
    const out = rewriteGreeting(greeting('10.11.6-MariaDB-0+deb12u1', rest), '5.6.51');
    expect(greetingVersion(out)).toBe('5.6.51');
    expect(out.readUIntLE(0, 3)).toBe(out.length - 4);
    expect(out.subarray(out.length - rest.length).equals(rest)).toBe(true);
  });

  it('leaves anything that is not a protocol-10 greeting alone', () => {
    for (const packet of [Buffer.from('N'), Buffer.from([5, 0, 0, 0, 0xff, 1, 2, 3, 4]), Buffer.alloc(0)])
      expect(rewriteGreeting(packet, '5.6.51').equals(packet)).toBe(true);
    expect(greetingVersion(Buffer.from([3, 0, 0, 0, 0x0a, 0x35, 0x2e]))).toBeUndefined();
  });
});
