/** A usage or input error of a client command: shown as is, exit code 2. */
export class InputError extends Error {
  override name = 'InputError';
}
