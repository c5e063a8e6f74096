import { ActivityFailure, ChildWorkflowFailure } from '@temporalio/workflow';

/**
 * What went wrong, in words: an ActivityFailure's own message is only "Activity task failed", so
 * name the activity (or child workflow) and follow the causes down to the real reason.
 */
export function failureText(err: unknown): string {
  const where: string[] = [];
  let e: unknown = err;
  while (e instanceof ActivityFailure || e instanceof ChildWorkflowFailure) {
    where.push(
      e instanceof ActivityFailure ? (e.activityType ?? 'activity') : `child ${e.workflowType ?? 'workflow'}`,
    );
    if (!e.cause) break;
    e = e.cause;
  }
  const message = e instanceof Error ? e.message : String(e);
  return where.length > 0 ? `${where.join(' > ')}: ${message}` : message;
}
