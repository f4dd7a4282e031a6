import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type RunningServer, startServer, tempDir } from '../support/server-process';

const BACKUP_JS = resolve(process.cwd(), 'dist/apps/api/apps/api/src/backup.js');

function runBackup(dataDir: string, destination: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolveRun) => {
    const child = spawn(process.execPath, [BACKUP_JS, destination], {
      env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir },
      stdio: 'pipe',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // A backup that hangs fails the test instead of outliving it.
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}

async function post(server: RunningServer, path: string, body: unknown, token?: string) {
  const res = await fetch(`${server.url}/api${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

describe('npm run backup (SQLite online backup)', () => {
  const servers: RunningServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop('SIGKILL')));
  });

  it('should copy a database that is being written to, holding every row committed before it, and restore', async () => {
    const dataDir = tempDir();
    const server = await startServer({ DATA_DIR: dataDir, BCRYPT_COST: '4' });
    servers.push(server);
    const signup = await post(server, '/auth/signup', {
      email: 'backup@example.com',
      password: 'backup-password',
      name: 'Backup',
    });
    const token = signup.body.accessToken as string;
    const before: string[] = [];
    for (let i = 0; i < 120; i++) {
      before.push(
        (await post(server, '/threads', { title: `before ${i}`, systemPrompt: 'x'.repeat(2000) }, token)).body.id,
      );
    }
    // Keep writing through the server while the backup runs.
    let writing = true;
    let during = 0;
    const writer = (async () => {
      while (writing) {
        const res = await post(
          server,
          '/threads',
          { title: `during ${during}`, systemPrompt: 'y'.repeat(2000) },
          token,
        );
        expect(res.status).toBe(201);
        during += 1;
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    const destination = join(tempDir('confab-backup-'), 'nested', 'copy.db');
    const result = await runBackup(dataDir, destination);
    writing = false;
    await writer;
    expect(result).toMatchObject({ code: 0, stdout: `${destination}\n` });
    expect(result.stderr).toMatch(/integrity ok \(.*threads \d+/);
    expect(during).toBeGreaterThan(0);
    expect(existsSync(`${destination}-wal`)).toBe(false);

    const copy = new Database(destination, { readonly: true });
    const ids = new Set(copy.prepare('SELECT id FROM threads').pluck().all() as string[]);
    expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(copy.pragma('journal_mode', { simple: true })).toBe('delete');
    copy.close();
    for (const id of before) {
      expect(ids.has(id)).toBe(true);
    }
    expect(ids.size).toBeGreaterThanOrEqual(before.length);
    expect(ids.size).toBeLessThanOrEqual(before.length + during);

    // Restore: the copy becomes confab.db of a fresh DATA_DIR, and a server started on it has the data.
    const restoredDir = tempDir();
    const { copyFileSync, readFileSync, writeFileSync } = await import('node:fs');
    copyFileSync(destination, join(restoredDir, 'confab.db'));
    writeFileSync(join(restoredDir, 'jwt-secret'), readFileSync(join(dataDir, 'jwt-secret')));
    const restored = await startServer({ DATA_DIR: restoredDir, BCRYPT_COST: '4' });
    servers.push(restored);
    const thread = await fetch(`${restored.url}/api/threads/${before[0]}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(thread.status).toBe(200);
    expect(await thread.json()).toMatchObject({ id: before[0], title: 'before 0' });
  }, 60_000);

  it('should refuse to overwrite a file and say what is wrong in one line', async () => {
    const dataDir = tempDir();
    const missing = await runBackup(dataDir, join(dataDir, 'x.db'));
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe(`confab backup: failed: no database at ${join(dataDir, 'confab.db')}`);
    const server = await startServer({ DATA_DIR: dataDir, BCRYPT_COST: '4' });
    servers.push(server);
    const destination = join(dataDir, 'taken.db');
    expect((await runBackup(dataDir, destination)).code).toBe(0);
    const again = await runBackup(dataDir, destination);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe(`confab backup: failed: ${destination} already exists`);
  }, 30_000);
});
