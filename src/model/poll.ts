// How often a waiting activity looks again (health gates, containers running). Pure: shared by the
// activities, the fake cluster of the tests and the docs.

/**
 * The pause before the next poll, from how long the wait has run: every 250 ms for the first 10 s
 * (nodes usually settle within seconds, and a gate that holds is noticed within a quarter second),
 * then every second until 30 s, then every 3 s (a long wait does not hammer the API or the hosts).
 */
export function pollDelayMs(elapsedMs: number): number {
  if (elapsedMs < 10_000) return 250;
  if (elapsedMs < 30_000) return 1_000;
  return 3_000;
}
