// What a run tells the chat webhook. Built in workflow code (plain JSON, no secrets), turned into a
// chat message on the worker by src/notify/slack-message.ts.

/** Which run the notification is about. */
export interface RunRef {
  cluster: string;
  runbook: string;
  /** The workflow id: what `/waba status <run>` and the buttons name. */
  workflowId: string;
}

export type NotifyEvent =
  | {
      kind: 'gateOpened';
      run: RunRef;
      gate: string;
      summary: string;
      requestedBy: string;
      approvers: string[];
      minApprovals: number;
      /** The gate's timeout, e.g. `24h`. */
      timeout: string;
      /** sha256 of the plan the gate shows: what the approvers sign. */
      plan?: string;
      /** The gate opened again because the plan changed: what changed. */
      reopenedBecause?: string;
    }
  | { kind: 'waitingForWindow'; run: RunRef /** ISO 8601 */; opensAt: string }
  | {
      kind: 'waitingForLock';
      run: RunRef;
      /** The run holding the cluster's lock, e.g. `upgrade (workflow prod/upgrade/x)`. */
      holder: string;
      /** Runs queued before this one. */
      ahead: number;
      /** How long this run waits before it gives up (ConcurrentRun), e.g. `2h`. */
      lockWait: string;
    }
  | { kind: 'waitingForCode'; run: RunRef /** e.g. `30m` */; timeout: string }
  | { kind: 'runSucceeded'; run: RunRef; summary: string }
  | { kind: 'runFailed'; run: RunRef; reason: string };

/** What the `notify` activity returns: delivered, or why not (never the webhook's address). */
export type NotifyResult =
  | { delivered: true; status: number }
  | { delivered: false; reason: 'not configured' };
