import {
  chmodSync,
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliError } from '../errors';

/** What `confab login` keeps. The file holds secrets: mode 0600 in a 0700 directory. */
export interface StoredConfig {
  server?: string;
  email?: string;
  /** A password session: the rotating refresh token and the last access token (saves a refresh per command). */
  refreshToken?: string;
  accessToken?: string;
  /** A personal API key (`cfk_...`), sent as the bearer token; it is never refreshed. */
  apiKey?: string;
}

const LOCK_STALE_MS = 10_000;

export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'confab');
}

export class ConfigStore {
  readonly file: string;
  private readonly lockFile: string;

  constructor(readonly dir: string = configDir()) {
    this.file = join(dir, 'config.json');
    this.lockFile = join(dir, 'config.lock');
  }

  read(): StoredConfig {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return {};
      }
      throw new CliError(`cannot read ${this.file}: ${(err as Error).message}`);
    }
    try {
      const parsed: unknown = JSON.parse(text);
      return typeof parsed === 'object' && parsed !== null ? (parsed as StoredConfig) : {};
    } catch {
      throw new CliError(`${this.file} is not valid JSON; fix it or run \`confab login\` again`);
    }
  }

  /** Replaces the file atomically (written aside with mode 0600, then renamed into place). */
  write(config: StoredConfig): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    chmodSync(this.dir, 0o700);
    const aside = `${this.file}.${process.pid}.tmp`;
    writeFileSync(aside, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    chmodSync(aside, 0o600);
    renameSync(aside, this.file);
  }

  update(change: (config: StoredConfig) => StoredConfig): StoredConfig {
    const next = change(this.read());
    this.write(next);
    return next;
  }

  /**
   * Runs `task` holding the config lock. A refresh token works once: two confab processes refreshing the same one
   * would revoke the whole session, so refreshes are serialised and each re-reads the file first.
   */
  async withLock<T>(task: () => Promise<T>): Promise<T> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const deadline = Date.now() + LOCK_STALE_MS + 5_000;
    for (;;) {
      try {
        closeSync(openSync(this.lockFile, 'wx', 0o600));
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw err;
        }
        if (this.lockIsStale() || Date.now() > deadline) {
          this.unlock();
          continue;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    try {
      return await task();
    } finally {
      this.unlock();
    }
  }

  private lockIsStale(): boolean {
    try {
      return Date.now() - statSync(this.lockFile).mtimeMs > LOCK_STALE_MS;
    } catch {
      return false;
    }
  }

  private unlock(): void {
    try {
      unlinkSync(this.lockFile);
    } catch {
      // already gone
    }
  }
}
