/** Lowercase hex of bytes (pure; no Buffer in workflow code). */
export const toHex = (bytes: Uint8Array): string =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
