// The ChatOps replay cache on disk (docs/chatops.md): an append-only file of the request ids and
// Slack signatures seen recently, so that a restarted endpoint still refuses a captured request whose
// timestamp is within the freshness window. One line per entry:
//
//   <expires at, ms since the epoch> <key>\n        e.g. 1764410460000 webhook:4f1c2a...
//
// Each new entry is written and fsync'ed before the request is answered. Loading drops expired,
// malformed and partial lines (a crash mid-append leaves at most a last line without its newline)
// and rewrites the file with only the live entries (temp file, fsync, rename); the file is rewritten
// the same way after every `compactEvery` appends, so it stays bounded. Mode 0600: what it holds is
// not secret, but nobody else should be able to fill or empty it.
import {
  closeSync,
  fchmodSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import type { ReplayStore } from './verify';

export const REPLAY_LOG_FILE = 'chatops-replay.log';

/** A line as written: expiry in ms (up to 16 digits), one space, a key of printable ASCII. */
const LINE = /^(\d{1,16}) ([\x21-\x7e]{1,300})$/;

/** Files larger than this are not read whole: only their last part (entries expire within minutes). */
const MAX_READ_BYTES = 16 * 1024 * 1024;

export interface ReplayLogOptions {
  /** Rewrite the file with only live entries after this many appends (default 5000). */
  compactEvery?: number;
  /** Told about a failure to write (the request is refused). */
  onError?: (message: string) => void;
}

export class ReplayLog implements ReplayStore {
  private fd: number | undefined;
  private appended = 0;
  private readonly compactEvery: number;
  /** Lines dropped at load as malformed or partial (not expired ones). */
  skipped = 0;

  constructor(
    readonly file: string,
    private readonly opts: ReplayLogOptions = {},
  ) {
    this.compactEvery = opts.compactEvery ?? 5_000;
  }

  load(nowMs: number): [string, number][] {
    const live = new Map<string, number>();
    for (const [key, expires] of this.read()) {
      if (expires > nowMs && expires > (live.get(key) ?? 0)) live.set(key, expires);
    }
    const entries = [...live].sort((a, b) => a[1] - b[1]);
    this.rewrite(entries);
    return entries;
  }

  append(key: string, expiresAtMs: number, live: () => Iterable<readonly [string, number]>): void {
    try {
      if (!/^[\x21-\x7e]{1,300}$/.test(key)) throw new Error('a key must be printable ASCII without spaces');
      if (this.fd === undefined || this.appended >= this.compactEvery) this.rewrite(live());
      const fd = this.fd as number;
      writeSync(fd, `${Math.floor(expiresAtMs)} ${key}\n`);
      fsyncSync(fd);
      this.appended++;
    } catch (err) {
      const message = `chatops: cannot record a request in ${this.file}: ${(err as Error).message}`;
      this.opts.onError?.(message);
      throw new Error(message);
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** Every well-formed, complete line of the file: `[key, expiresAtMs]`. */
  private read(): [string, number][] {
    let text: string;
    try {
      const buf = readFileSync(this.file);
      text = buf.subarray(Math.max(0, buf.length - MAX_READ_BYTES)).toString('latin1');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new Error(
        `${this.file}: cannot read the ChatOps replay log (${(err as NodeJS.ErrnoException).code})`,
      );
    }
    const lines = text.split('\n');
    // The last piece has no newline: empty after a clean append, else a write cut short.
    const partial = lines.pop();
    if (partial) this.skipped++;
    const out: [string, number][] = [];
    for (const line of lines) {
      const m = LINE.exec(line);
      if (m?.[1] && m[2]) out.push([m[2], Number(m[1])]);
      else if (line !== '') this.skipped++;
    }
    return out;
  }

  /** Replace the file with `entries` (temp file, fsync, rename, fsync the directory); append from then on. */
  private rewrite(entries: Iterable<readonly [string, number]>): void {
    const dir = path.dirname(this.file);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    const out = openSync(tmp, 'w', 0o600);
    try {
      fchmodSync(out, 0o600);
      let text = '';
      for (const [key, expires] of entries) text += `${Math.floor(expires)} ${key}\n`;
      writeSync(out, text);
      fsyncSync(out);
    } catch (err) {
      closeSync(out);
      rmSync(tmp, { force: true });
      throw err;
    }
    closeSync(out);
    renameSync(tmp, this.file);
    const d = openSync(dir, 'r');
    try {
      fsyncSync(d);
    } finally {
      closeSync(d);
    }
    this.close();
    this.fd = openSync(this.file, 'a', 0o600);
    this.appended = 0;
  }
}
