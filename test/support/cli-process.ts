import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { type FakeUpstream, startFakeUpstream } from './fake-upstream';
import { httpClient } from './app-harness';
import { accountsOf } from '../e2e/auth.fixtures';
import { type RunningServer, startServer, tempDir } from './server-process';

/** The built terminal client, as `npx confab` runs it. */
export const CLI_JS = resolve(process.cwd(), 'dist/apps/cli/main.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliRun {
  /** Written to stdin, which is then closed (stdin is never a terminal here). */
  input?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * Runs the real CLI as a child process with its own config directory (`XDG_CONFIG_HOME`) and nothing of this
 * process's environment but PATH and HOME, so that a developer's own CONFAB_* variables cannot leak in.
 */
export function runCli(configHome: string, args: string[], run: CliRun = {}): Promise<CliResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [CLI_JS, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: configHome, XDG_CONFIG_HOME: configHome, ...run.env },
      stdio: 'pipe',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`confab ${args.join(' ')} did not exit: ${stdout}${stderr}`));
    }, run.timeoutMs ?? 15_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
    child.stdin.end(run.input ?? '');
  });
}

/** A built server in its own process, its model provider pointed at a fake upstream in this one. */
export async function startCliServer(env: Record<string, string> = {}) {
  const upstream: FakeUpstream = await startFakeUpstream();
  const server: RunningServer = await startServer({
    DATA_DIR: tempDir(),
    BCRYPT_COST: '4',
    OPENAI_API_KEY: 'sk-test-secret-key-0123456789',
    OPENAI_BASE_URL: upstream.baseUrl,
    OPENAI_MAX_RETRIES: '0',
    MODELS: 'gpt-test:16000,gpt-other:16000',
    DEFAULT_MODEL: 'gpt-test',
    SIGNUP_RATE_LIMIT: '10000/h',
    LOGIN_RATE_LIMIT: '1000/15m',
    ...env,
  });
  const request = httpClient(server.url);
  return {
    url: server.url,
    server,
    upstream,
    request,
    ...accountsOf(request),
    close: async () => {
      await server.stop();
      await upstream.close();
    },
  };
}

export type CliServer = Awaited<ReturnType<typeof startCliServer>>;
