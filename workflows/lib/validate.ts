import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import type { z } from 'zod';
import { INVALID_INPUT } from '../../src/model/errors';
import { MOVED_TO_INVENTORY } from '../../src/model/inputs/common';
import { check } from '../../src/model/validate';
import { TemporalScheduledById } from '../api';

/**
 * First step of every runbook: the Web UI sends raw JSON, so validate it here and fail at once,
 * non-retryably, naming every bad field, before any activity runs.
 */
export function validateInput<S extends z.ZodType>(runbook: string, schema: S, input: unknown): z.output<S> {
  const result = check(schema, input, MOVED_TO_INVENTORY);
  if (result.ok) return result.value;
  throw ApplicationFailure.create({
    type: INVALID_INPUT,
    nonRetryable: true,
    message: `invalid ${runbook} input: ${result.problems.join('; ')}`,
    details: [result.problems],
  });
}

/**
 * Approvals given in advance are honoured only in runs a Schedule started, so a person starting a
 * run by hand cannot skip the gate by writing someone else's name into the input. This only reads
 * TemporalScheduledById, which a start request may set too: a run carrying it fails at `resolve()`
 * (gatedRun, before any step touches the cluster) unless the schedule it names started it.
 */
export function requireScheduledForPreApproval(runbook: string, preApproved: readonly unknown[]): void {
  if (preApproved.length === 0 || workflowInfo().typedSearchAttributes.get(TemporalScheduledById)) return;
  throw ApplicationFailure.create({
    type: INVALID_INPUT,
    nonRetryable: true,
    message: `invalid ${runbook} input: preApproved: honoured only in runs started by a Schedule; remove it to start by hand`,
  });
}
