// Everything the bench starts registers how to stop it here; `stopAll` runs at the end and on Ctrl-C,
// newest first (workers before the server they poll, the lab last).

type Stopper = { what: string; stop: () => Promise<void> };
const stoppers: Stopper[] = [];
let stopping: Promise<void> | undefined;

export function onCleanup(what: string, stop: () => Promise<void>): () => void {
  const entry = { what, stop };
  stoppers.push(entry);
  return () => {
    const i = stoppers.indexOf(entry);
    if (i >= 0) stoppers.splice(i, 1);
  };
}

export function stopAll(log: (m: string) => void = console.log): Promise<void> {
  stopping ??= (async () => {
    while (stoppers.length) {
      const s = stoppers.pop() as Stopper;
      try {
        await s.stop();
      } catch (err) {
        log(`cleanup: stopping ${s.what} failed: ${err instanceof Error ? err.message : err}`);
      }
    }
  })();
  return stopping;
}

/** Ctrl-C or SIGTERM: stop everything, then exit non-zero. A second Ctrl-C exits at once. */
export function stopOnSignals(log: (m: string) => void = console.log): void {
  let signalled = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (signalled) process.exit(130);
      signalled = true;
      log(`${sig}: stopping everything the bench started...`);
      void stopAll(log).finally(() => process.exit(130));
    });
  }
}
