// The maintenance window of an upgrade: wait for it to open; with `onClose: park`, no batch starts
// once it has closed: the run parks until the next opening.
import { patched, sleep } from '@temporalio/workflow';
import type { UpgradeInput } from '../../src/model/inputs';
import { windowState } from '../../src/model/window';
import type { RunNotifier } from '../lib/notify';
import type { Progress } from '../lib/progress';

/**
 * Marks runs that know `window.onClose` (the plan says what happens when the window closes; `park`
 * parks between batches). A run started before it replays as it ran: no parking, the old plan text.
 */
export const WINDOW_ON_CLOSE_PATCH = 'upgrade-window-on-close';

/** A parked run (`status.parked`): its window closed between two batches. */
export interface Parked {
  /** When it parked, and the opening it waits for (ISO). */
  since: string;
  until: string;
  /** The last health gate that passed before it parked (null: it parked before the first batch). */
  after: string | null;
  /** The batch it starts with at the opening, e.g. `upgrade master on master2`. */
  next: string;
}

export class UpgradeWindow {
  /** While the run is parked (its window closed between two batches): since when, until when, what is next. */
  parked: Parked | null = null;

  constructor(
    private readonly input: UpgradeInput,
    private readonly progress: Progress,
    private readonly notifier: RunNotifier,
  ) {}

  /** The window's onClose policy applies (a window, not forced, and a run that knows the policy). */
  readonly onClosePolicy = (): boolean =>
    Boolean(this.input.window && !this.input.force) && patched(WINDOW_ON_CLOSE_PATCH);

  /** Wait until the window is open (durable timers); a forced run says so and goes on. */
  async waitForOpening(): Promise<void> {
    const { input } = this;
    if (!input.window) return;
    if (input.force) {
      this.progress.host('window', `forced outside the window: ${input.force.reason}`);
      return;
    }
    for (;;) {
      const w = windowState(Date.now(), input.window);
      if (w.inside) return;
      this.progress.stage(`waiting for window opening at ${new Date(w.opensAt).toISOString()}`);
      this.notifier.waitingForWindow(w.opensAt);
      await sleep(w.opensAt - Date.now());
    }
  }

  /**
   * Before each batch, with `onClose: park`: when the window has closed, no batch starts; the run
   * parks (every batch so far passed its health gate) until the next opening. Returns when it
   * parked (ISO), or undefined when it did not: the caller checks the health again before `next`.
   */
  async parkIfClosed(next: string, lastPassed: string | undefined): Promise<string | undefined> {
    const w = this.input.window;
    if (!w || !this.onClosePolicy() || w.onClose !== 'park') return undefined;
    let state = windowState(Date.now(), w);
    if (state.inside) return undefined;
    const after = lastPassed ? `after "${lastPassed}" passed` : 'before the first batch';
    const since = new Date().toISOString();
    while (!state.inside) {
      const until = new Date(state.opensAt).toISOString();
      this.parked = { since, until, after: lastPassed ?? null, next };
      this.progress.host('window', `closed: parked ${after}; ${next} at ${until}`);
      this.progress.stage(`parked until ${until}`);
      this.notifier.waitingForWindow(state.opensAt);
      await sleep(state.opensAt - Date.now());
      state = windowState(Date.now(), w);
    }
    this.parked = null;
    this.progress.host('window', `open again (parked ${since} to ${new Date().toISOString()})`);
    return since;
  }
}
