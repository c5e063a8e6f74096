import { ApplicationFailure } from '@temporalio/workflow';
import type { z } from 'zod';
import { check } from '../../src/spec/validate';

export const INVALID_INPUT = 'InvalidInput';

/**
 * First step of every runbook: the Web UI sends raw JSON, so validate it here and fail at once,
 * non-retryably, naming every bad field, before any activity runs.
 */
export function validateInput<S extends z.ZodType>(runbook: string, schema: S, input: unknown): z.output<S> {
  const result = check(schema, input);
  if (result.ok) return result.value;
  throw ApplicationFailure.create({
    type: INVALID_INPUT,
    nonRetryable: true,
    message: `invalid ${runbook} input: ${result.problems.join('; ')}`,
    details: [result.problems],
  });
}
