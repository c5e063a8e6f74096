// Task queues of the bench's own server: never the runbooks' default queue.
export const RUNBOOKS_QUEUE = 'waba-bench-runbooks';
export const BENCH_QUEUE = 'waba-bench';
