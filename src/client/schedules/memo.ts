// What a schedule records about itself (its memo), read back by describe, list and trigger.

/** What a cluster name may contain (src/model/cluster.ts): safe to put in a visibility query. */
export const CLUSTER_NAME = /^[a-z0-9._-]+$/;

/** What the schedule's memo records (the note in `state.note` can be overwritten by pause/unpause). */
export interface ScheduleMemo {
  runbook: string;
  cluster: string;
  calendar: string;
  timeZone: string;
  note: string;
  createdAt: string;
}

export const memoOf = (memo: Record<string, unknown> | undefined): Partial<ScheduleMemo> =>
  (memo ?? {}) as Partial<ScheduleMemo>;
