// Proves the production runtime outside Docker, as the image's runtime stage builds it: copies the built output
// into a fresh folder, installs the production dependencies alone there (`npm ci --omit=dev`, native addons
// compiled again), starts it with NODE_ENV=production and only the required secrets, and checks that it answers
// /api/health, signs a user up (bcrypt, SQLite) and exits 0 on SIGTERM. A dev-only package needed at run time fails
// here. Run after `npm run build` (`npm run verify:runtime`); .ci/run runs it after the tests.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const MAIN = 'dist/apps/api/apps/api/src/main.js';
const started = Date.now();
const say = (line) => process.stderr.write(`verify-runtime: ${line}\n`);
const fail = (line) => {
  say(`FAILED: ${line}`);
  process.exit(1);
};

if (!existsSync(join(root, MAIN))) {
  fail(`${MAIN} is missing: run npm run build first`);
}
const dir = mkdtempSync(join(tmpdir(), 'confab-runtime-'));
let child = null;
process.on('exit', () => {
  child?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

// What the Dockerfile's runtime stage copies: the manifests, the server build, the web app build when there is one.
for (const path of ['package.json', 'package-lock.json', 'dist', 'apps/web/dist']) {
  if (existsSync(join(root, path))) {
    cpSync(join(root, path), join(dir, path), { recursive: true });
  }
}
say(`installing production dependencies in ${dir}`);
// The npm cache is shared with the working copy (no download for packages already fetched once); npm_config_nodedir
// from scripts/ensure-node.sh points node-gyp at local headers.
const install = spawnSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], {
  cwd: dir,
  stdio: ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, NODE_ENV: 'production' },
});
if (install.status !== 0) {
  fail(`npm ci --omit=dev exited with ${install.status}`);
}
// (typescript may stay: npm keeps it as an optional peer of @nestjs/swagger.)
const devOnly = ['jest', 'eslint', '@nestjs/cli', 'supertest'].filter((p) => existsSync(join(dir, 'node_modules', p)));
if (devOnly.length > 0) {
  fail(`development packages were installed: ${devOnly.join(', ')}`);
}
say(`installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);

const port = await new Promise((resolvePort, reject) => {
  const server = createServer().once('error', reject);
  server.listen(0, '127.0.0.1', () => {
    const { port: free } = server.address();
    server.close(() => resolvePort(free));
  });
});
let output = '';
// Only what production needs: no NODE_PATH, no dev tooling on the module path, the folder itself as cwd.
child = spawn(process.execPath, [MAIN], {
  cwd: dir,
  env: {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    JWT_SECRET: randomBytes(32).toString('hex'),
    HOST: '127.0.0.1',
    PORT: String(port),
    DATA_DIR: join(dir, 'data'),
    BCRYPT_COST: '4',
    LOG_LEVEL: 'warn',
  },
  stdio: ['ignore', 'pipe', 'pipe'],
});
child.stdout.on('data', (d) => (output += d));
child.stderr.on('data', (d) => (output += d));
const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
const url = `http://127.0.0.1:${port}`;

// Generous: on a loaded CI machine loading the server alone can take tens of seconds.
const deadline = Date.now() + 90_000;
let health = null;
while (!health) {
  if (child.exitCode !== null) {
    fail(`the server exited with ${child.exitCode}:\n${output}`);
  }
  try {
    const res = await fetch(`${url}/api/health`);
    if (res.ok) {
      health = await res.json();
    }
  } catch {
    // not listening yet
  }
  if (!health && Date.now() > deadline) {
    fail(`no answer on /api/health within 90 s:\n${output}`);
  }
  await new Promise((r) => setTimeout(r, 100));
}
if (health.status !== 'ok' || health.database !== 'sqlite') {
  fail(`unexpected health ${JSON.stringify(health)}`);
}
const ready = await fetch(`${url}/api/health/ready`);
const signup = await fetch(`${url}/api/auth/signup`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ email: 'runtime@example.com', password: 'runtime-password', name: 'Runtime' }),
});
const metrics = await fetch(`${url}/metrics`);
if (ready.status !== 200 || signup.status !== 201 || metrics.status !== 404) {
  fail(
    `ready ${ready.status} (want 200), signup ${signup.status} (want 201), metrics ${metrics.status} (want 404)\n${output}`,
  );
}
child.kill('SIGTERM');
const exit = await exited;
child = null;
if (exit.code !== 0) {
  fail(`SIGTERM ended the server with ${JSON.stringify(exit)} (want exit code 0)\n${output}`);
}
say(
  `ok: production install answered /api/health, signed a user up and drained on SIGTERM (${((Date.now() - started) / 1000).toFixed(1)} s)`,
);
