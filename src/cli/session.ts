// One CLI invocation: the output format and connection flags it was given, and the connection,
// made only when a command needs the server and closed when the command ends.
import { type Connected, type ConnectionFlags, connect } from './connect';
import type { Format } from './output';

export class Session {
  private connected: Promise<Connected> | undefined;

  constructor(
    readonly format: Format,
    private readonly flags: ConnectionFlags,
  ) {}

  connect(): Promise<Connected> {
    this.connected ??= connect(this.flags);
    return this.connected;
  }

  async close(): Promise<void> {
    const c = await this.connected?.catch(() => undefined);
    await c?.close();
  }
}
