import { CancellationScope, ContinueAsNew, log, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { ApprovalPolicy } from '../../src/model/approvals';
import type { NotifyEvent, RunRef } from '../../src/model/notify';
import { NOTIFY_STEP } from './activity-options';
import { failureText } from './failure-text';

const { notify } = proxyActivities<Activities>(NOTIFY_STEP);

/**
 * Chat notifications of one run (the `notify` activity). Never fails and never blocks the run:
 * waits (gates, window, code) start the notification and go on; the end waits for delivery, bounded
 * by the retry policy. Undelivered notifications are logged with the workflow logger.
 */
export class RunNotifier {
  private readonly run: RunRef;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(runbook: string, cluster: string) {
    this.run = { cluster, runbook, workflowId: workflowInfo().workflowId };
  }

  gateOpened(
    gate: string,
    summary: string,
    requestedBy: string,
    policy: ApprovalPolicy,
    needed: number,
    plan: string,
    reopenedBecause?: string,
  ): void {
    this.background({
      kind: 'gateOpened',
      run: this.run,
      gate,
      summary,
      requestedBy,
      approvers: [...policy.approvers],
      minApprovals: needed,
      timeout: policy.timeout,
      plan,
      ...(reopenedBecause ? { reopenedBecause } : {}),
    });
  }

  waitingForWindow(opensAt: number | string): void {
    this.background({ kind: 'waitingForWindow', run: this.run, opensAt: new Date(opensAt).toISOString() });
  }

  waitingForLock(holder: string, ahead: number, lockWait: string): void {
    this.background({ kind: 'waitingForLock', run: this.run, holder, ahead, lockWait });
  }

  waitingForCode(timeout: string): void {
    this.background({ kind: 'waitingForCode', run: this.run, timeout });
  }

  /** Notify the success (`summary`: one short line) and hand `result` back. */
  async succeeded<T>(result: T, summary: string): Promise<T> {
    await this.ended({ kind: 'runSucceeded', run: this.run, summary });
    return result;
  }

  /** Notify the failure with its reason; a continue-as-new is not an end and sends nothing. */
  async failed(err: unknown): Promise<void> {
    if (err instanceof ContinueAsNew) return;
    await this.ended({ kind: 'runFailed', run: this.run, reason: failureText(err) });
  }

  private async ended(event: NotifyEvent): Promise<void> {
    // Also when the run was cancelled; earlier notifications still in flight settle first.
    await CancellationScope.nonCancellable(() => Promise.all([this.send(event), ...this.inFlight]));
  }

  private background(event: NotifyEvent): void {
    const sent = this.send(event).finally(() => this.inFlight.delete(sent));
    this.inFlight.add(sent);
  }

  /** Resolves in every case: an undelivered notification is logged, never thrown. */
  private async send(event: NotifyEvent): Promise<void> {
    try {
      await notify(event);
    } catch (err) {
      log.warn(`notification ${event.kind} not delivered: ${failureText(err)}`, {
        notification: event.kind,
      });
    }
  }
}
