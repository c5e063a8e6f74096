// The media chown's progress as the activities report it, and how often the workflow polls it.

/** What `mediaChownProgress` reports about the detached chown. */
export interface MediaChownProgress {
  /** Files in the media folders, counted once when the chown started. */
  total: number;
  /**
   * Files not root's yet: while it runs, those counted at the start less those the chown reported
   * changed; once it exited, counted again (the final check).
   */
  remaining: number;
  done: number;
  /** null while it runs, or when it is gone. */
  exitCode: number | null;
  /** Files the chown reported it changed so far (`chown -c`). */
  changed?: number;
  /**
   * `running`, `exited`, or `gone`: no exit code and no process (the container restarted, or the
   * job was killed). Absent in results recorded before this field existed (read as running).
   */
  state?: 'running' | 'exited' | 'gone';
  /**
   * false when the container itself is gone or stopped (the counts then are unknown: 0). Absent
   * when the container was there, and in results recorded before this field existed.
   */
  container?: false;
}

/** What a poll reports when the container itself is gone or stopped: the job died with it, counts unknown. */
export const CHOWN_GONE_WITH_CONTAINER: MediaChownProgress = {
  total: 0,
  remaining: 0,
  done: 0,
  exitCode: null,
  changed: 0,
  state: 'gone',
  container: false,
};

/** Counts taken in one walk: `<total> <not root's yet>`, e.g. `9007 6004`; undefined for anything else. */
export function parseChownCounts(line: string | undefined): { total: number; remaining: number } | undefined {
  const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(line ?? '');
  if (!m) return undefined;
  return { total: Number(m[1]), remaining: Number(m[2]) };
}

/**
 * The lines of mediaChownProgressCommand: the counts kept at the start (or `-`), files changed so
 * far, then `running`, `gone`, `no-container` (gone with its container), or the exit code followed
 * by the files still not root's. `counts` is undefined when none were kept (a chown started by an
 * older worker).
 */
export function parseChownProgress(out: string): {
  counts: { total: number; remaining: number } | undefined;
  changed: number;
  state: 'running' | 'exited' | 'gone';
  exitCode: number | null;
  left: number | undefined;
  containerGone: boolean;
} {
  const [counts, changed, state, left] = out.trim().split('\n');
  const exited = /^\s*\d+\s*$/.test(state ?? '');
  const said = state?.trim();
  const containerGone = said === 'no-container';
  return {
    counts: parseChownCounts(counts),
    changed: Number(changed?.trim()) || 0,
    state: exited ? 'exited' : said === 'gone' || containerGone ? 'gone' : 'running',
    exitCode: exited ? Number(state) : null,
    left: exited && /^\s*\d+\s*$/.test(left ?? '') ? Number(left) : undefined,
    containerGone,
  };
}

/**
 * How long the workflow waits between two progress polls, by the size of the tree: one second per
 * 20,000 files, at least 2 s and at most 60 s: `min(60, max(2, ceil(total / 20000)))` seconds
 * (2 s up to 40,000 files, 10 s at 200,000, 50 s at a million, 60 s from 1.2 million). A poll reads
 * three small files in the container; it never walks the tree while the chown runs.
 */
export function chownPollMs(total: number): number {
  return Math.min(60, Math.max(2, Math.ceil(total / 20_000))) * 1000;
}
