import 'reflect-metadata';
import { backupSqlite, SQLITE_FILE } from '@app/persistence';
import { config as readDotenv } from 'dotenv';
import { isAbsolute, join, resolve } from 'node:path';

/**
 * `npm run backup [-- <destination>]`: a consistent copy of the embedded SQLite database while servers run, by
 * default `DATA_DIR/backups/confab-<UTC time>.db`. With MONGODB_URI set there is nothing to copy here: use mongodump
 * (README, "Backups and restore").
 */
async function main(): Promise<void> {
  readDotenv({ quiet: true });
  if (process.env.MONGODB_URI?.trim()) {
    throw new Error('MONGODB_URI is set: back MongoDB up with mongodump (see the README)');
  }
  const dataDirRaw = process.env.DATA_DIR?.trim() || './data';
  const dataDir = isAbsolute(dataDirRaw) ? dataDirRaw : resolve(process.cwd(), dataDirRaw);
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const destination = resolve(process.argv[2] ?? join(dataDir, 'backups', `confab-${stamp}.db`));
  const report = await backupSqlite(join(dataDir, SQLITE_FILE), destination);
  const rows = Object.entries(report.rows)
    .filter(([table]) => !table.includes('_fts'))
    .map(([table, n]) => `${table} ${n}`)
    .join(', ');
  process.stdout.write(`${report.destination}\n`);
  process.stderr.write(`confab backup: ${report.bytes} bytes, integrity ok (${rows})\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`confab backup: failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
