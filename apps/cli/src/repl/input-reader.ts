import type { Interface } from 'node:readline';

const PASTE_ON = '\x1b[?2004h';
const PASTE_OFF = '\x1b[?2004l';

/**
 * Whole inputs from a readline interface: a line ending in `\` goes on to the next one, and a paste (bracketed
 * paste, which the terminal is asked for) is one input whatever its newlines. Ctrl+C clears the line, and on an
 * empty one warns that a second Ctrl+C exits; Ctrl+D on an empty line exits.
 */
export class InputReader {
  private readonly queue: string[] = [];
  private waiter: ((input: string | null) => void) | null = null;
  private parts: string[] = [];
  private pasting = false;
  private closed = false;
  private suspended = false;
  /** The last key was a Ctrl+C (at the prompt, or the one that stopped a reply): another one exits. */
  armed = false;

  constructor(
    private readonly rl: Interface,
    private readonly input: NodeJS.ReadStream,
    private readonly prompts: { main: string; more: string },
    private readonly onInterruptHint: () => void,
  ) {
    rl.setPrompt(prompts.main);
    rl.on('line', (line) => this.onLine(line));
    rl.on('close', () => {
      if (!this.closed && this.tty) {
        process.stdout.write('\n'); // Ctrl+D: what follows starts on a line of its own
      }
      this.closed = true;
      this.settle();
    });
    rl.on('SIGINT', () => this.onInterrupt());
    if (this.tty) {
      input.on('keypress', (_char: string | undefined, key: { name?: string } | undefined) => {
        if (key?.name === 'paste-start') {
          this.pasting = true;
        } else if (key?.name === 'paste-end') {
          this.pasting = false;
        }
      });
      process.stdout.write(PASTE_ON);
    }
  }

  private get tty(): boolean {
    return this.input.isTTY === true;
  }

  /** The next whole input; `null` once the user has left (Ctrl+D, end of piped input). */
  next(): Promise<string | null> {
    const queued = this.queue.shift();
    if (queued !== undefined) {
      return Promise.resolve(queued);
    }
    if (this.closed) {
      return Promise.resolve(null);
    }
    this.prompt();
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /**
   * Runs `task` with the terminal handed back in its normal mode: a reply streaming or `$EDITOR` open. The line
   * editor is paused, so Ctrl+C arrives as SIGINT (which stops the reply) and nothing typed meanwhile is lost.
   */
  async suspend<T>(task: () => Promise<T>): Promise<T> {
    if (!this.tty || this.closed) {
      return task();
    }
    this.suspended = true;
    this.rl.pause();
    this.input.setRawMode(false);
    try {
      return await task();
    } finally {
      if (!this.closed) {
        this.input.setRawMode(true);
        this.rl.resume();
      }
      this.suspended = false;
    }
  }

  close(): void {
    if (this.tty) {
      process.stdout.write(PASTE_OFF);
    }
    this.closed = true;
    this.rl.close();
  }

  private prompt(): void {
    if (this.tty && !this.suspended) {
      this.rl.setPrompt(this.parts.length > 0 ? this.prompts.more : this.prompts.main);
      this.rl.prompt();
    }
  }

  private onLine(line: string): void {
    this.armed = false;
    if (this.pasting) {
      this.parts.push(line);
      return;
    }
    if (line.endsWith('\\')) {
      this.parts.push(line.slice(0, -1));
      this.prompt();
      return;
    }
    this.parts.push(line);
    const input = this.parts.join('\n').replace(/\n+$/, '');
    this.parts = [];
    if (input.trim() === '') {
      this.prompt();
      return;
    }
    this.queue.push(input);
    this.settle();
  }

  private onInterrupt(): void {
    if (this.rl.line.length > 0 || this.parts.length > 0) {
      this.parts = [];
      this.rl.write(null, { ctrl: true, name: 'e' });
      this.rl.write(null, { ctrl: true, name: 'u' });
      process.stdout.write('\n');
      this.armed = false;
      this.prompt();
      return;
    }
    if (this.armed) {
      process.stdout.write('\n');
      this.close();
      return;
    }
    this.armed = true;
    process.stdout.write('\n');
    this.onInterruptHint();
    this.prompt();
  }

  private settle(): void {
    if (!this.waiter) {
      return;
    }
    const next = this.queue.shift();
    if (next !== undefined) {
      this.waiter(next);
      this.waiter = null;
    } else if (this.closed) {
      this.waiter(null);
      this.waiter = null;
    }
  }
}
