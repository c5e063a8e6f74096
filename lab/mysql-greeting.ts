// The MySQL server greeting (protocol 10), as the lab's version fault rewrites it: a packet is a
// 3-byte little-endian length and a sequence byte; the body starts with 0x0a and the server
// version, NUL-terminated.

/** The version a greeting announces, or undefined when it is not a protocol-10 greeting. */
export function greetingVersion(packet: Buffer): string | undefined {
  if (packet.length < 6 || packet[4] !== 0x0a) return undefined;
  const end = packet.indexOf(0, 5);
  return end < 0 ? undefined : packet.subarray(5, end).toString('latin1');
}

/** The greeting with its version replaced and its length fixed; anything else unchanged. */
export function rewriteGreeting(packet: Buffer, version: string): Buffer {
  if (greetingVersion(packet) === undefined) return packet;
  const end = packet.indexOf(0, 5);
  const body = Buffer.concat([packet.subarray(4, 5), Buffer.from(version, 'latin1'), packet.subarray(end)]);
  const header = Buffer.from([body.length & 0xff, (body.length >> 8) & 0xff, (body.length >> 16) & 0xff]);
  return Buffer.concat([header, packet.subarray(3, 4), body]);
}
