/** A usage or input error of a client command: shown as is, exit code 2. */
export class InputError extends Error {
  override name = 'InputError';
}

/**
 * A decision the run would not take, found out before or by sending it (gate not open, a key of
 * nobody in the policy, the run's validator said no): shown as is, exit code 3.
 */
export class DecisionRefused extends InputError {
  override name = 'DecisionRefused';
}
