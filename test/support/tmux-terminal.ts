import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

export function tmuxAvailable(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * A real pseudo-terminal: a private tmux server (its own socket, so nothing is shared with anyone's tmux) running
 * one command in a window of a fixed size; keys go in with `send-keys`, the screen comes out with `capture-pane`.
 */
export class TmuxTerminal {
  private readonly socket = `confab-test-${randomUUID().slice(0, 8)}`;

  private constructor() {}

  /** Starts `command` (a shell command line) with exactly `env` (plus TERM) in a 100x40 terminal. */
  static async start(command: string, env: Record<string, string>): Promise<TmuxTerminal> {
    const terminal = new TmuxTerminal();
    const assignments = Object.entries({ TERM: 'xterm-256color', ...env }).map(([k, v]) => `${k}=${quote(v)}`);
    await terminal.tmux(
      'new-session',
      '-d',
      '-s',
      'main',
      '-x',
      '100',
      '-y',
      '40',
      `env -i ${assignments.join(' ')} ${command}`,
    );
    return terminal;
  }

  /** Types text literally (no key names), then the given keys (`Enter`, `C-c`, `C-d`). */
  async type(text: string, ...keys: string[]): Promise<void> {
    if (text) {
      await this.tmux('send-keys', '-t', 'main', '-l', text);
    }
    if (keys.length) {
      await this.keys(...keys);
    }
  }

  async keys(...keys: string[]): Promise<void> {
    await this.tmux('send-keys', '-t', 'main', ...keys);
  }

  /** Pastes text the way a terminal does (bracketed paste when the program asked for it). */
  async paste(text: string): Promise<void> {
    await this.tmux('set-buffer', '--', text);
    await this.tmux('paste-buffer', '-p', '-t', 'main');
  }

  /** The whole screen and scroll-back as plain text, wrapped lines joined. */
  async screen(): Promise<string> {
    const { stdout } = await this.tmux('capture-pane', '-p', '-J', '-S', '-', '-t', 'main');
    return stdout.replace(/\s+$/, '');
  }

  async title(): Promise<string> {
    const { stdout } = await this.tmux('display-message', '-p', '-t', 'main', '#{pane_title}');
    return stdout.trim();
  }

  /** Resolves with the screen once `pattern` shows on it (counting only what follows `after` characters). */
  async waitFor(pattern: RegExp | string, after = 0, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = await this.screen();
      const seen = screen.slice(after);
      if (typeof pattern === 'string' ? seen.includes(pattern) : pattern.test(seen)) {
        return screen;
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${String(pattern)}; the screen:\n${screen}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async close(): Promise<void> {
    await this.tmux('kill-server').catch(() => undefined);
  }

  private tmux(...args: string[]) {
    return run('tmux', ['-L', this.socket, '-f', '/dev/null', ...args]);
  }
}

function quote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
