import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CliServer, runCli, startCliServer } from '../support/cli-process';
import { lastUserText } from '../support/fake-upstream';
import { freePort, tempDir } from '../support/server-process';
import type { TestAccount } from './auth.fixtures';

// Every case runs the CLI as a process (or several): generous on a loaded 2-core machine.
const SLOW = 30_000;

/** The real `confab` binary (dist/apps/cli/main.js) against a started server and the fake upstream. */
describe('confab (terminal client)', () => {
  let app: CliServer;

  beforeAll(async () => {
    // No reuse grace: a replayed refresh token is refused at once, which the rotation test relies on.
    app = await startCliServer({ USER_DAILY_TOKEN_LIMIT: '5000', REFRESH_GRACE: '0' });
  }, 60_000);

  afterAll(async () => {
    await app?.close();
  });

  beforeEach(() => app.upstream.reset());

  async function loggedIn(): Promise<{ home: string; account: TestAccount }> {
    const account = await app.signUp();
    const home = tempDir('confab-cli-');
    const login = await runCli(home, ['login', '--server', app.url], {
      input: `${account.email}\n${account.password}\n`,
    });
    expect(login).toMatchObject({ code: 0, stdout: '' });
    return { home, account };
  }

  function stored(home: string): Record<string, string> {
    return JSON.parse(readFileSync(join(home, 'confab', 'config.json'), 'utf8'));
  }

  function expectOneLineFailure(result: { code: number | null; stdout: string; stderr: string }, code: number) {
    expect(result.code).toBe(code);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines.at(-1)).toMatch(/^confab: /);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  }

  describe('login', () => {
    it(
      'should sign in with a password, keep only the tokens in a 0600 file and know who it is',
      async () => {
        const { home, account } = await loggedIn();
        const file = join(home, 'confab', 'config.json');
        expect(statSync(file).mode & 0o777).toBe(0o600);
        expect(statSync(join(home, 'confab')).mode & 0o777).toBe(0o700);
        const config = stored(home);
        expect(config).toMatchObject({ server: app.url, email: account.email });
        expect(config.refreshToken).toEqual(expect.any(String));
        expect(readFileSync(file, 'utf8')).not.toContain(account.password);

        const whoami = await runCli(home, ['whoami']);
        expect(whoami.code).toBe(0);
        expect(whoami.stdout).toContain(account.email);
        expect(whoami.stdout).toContain('password session');
      },
      SLOW,
    );

    it(
      'should refresh an expired access token and store the rotated refresh token (the old one is dead)',
      async () => {
        const { home } = await loggedIn();
        const before = stored(home);
        writeFileSync(
          join(home, 'confab', 'config.json'),
          JSON.stringify({ ...before, accessToken: 'not.a-valid.jwt' }),
        );

        const threads = await runCli(home, ['threads']);
        expect(threads.code).toBe(0);
        const after = stored(home);
        expect(after.refreshToken).not.toBe(before.refreshToken);
        expect(after.accessToken).not.toBe('not.a-valid.jwt');
        const replay = await app.request('POST', '/auth/refresh', { body: { refreshToken: before.refreshToken } });
        expect(replay.status).toBe(401);
      },
      SLOW,
    );

    it(
      'should sign in with an API key, use it as the bearer token, and refuse it once revoked',
      async () => {
        const account = await app.signUp();
        const created = await app.request('POST', '/auth/me/keys', {
          token: account.accessToken,
          body: { name: 'cli' },
        });
        expect(created.status).toBe(201);
        const home = tempDir('confab-cli-');
        const login = await runCli(home, ['login', '--server', app.url, '--key'], { input: `${created.body.key}\n` });
        expect(login.code).toBe(0);
        expect(stored(home)).toEqual({ server: app.url, email: account.email, apiKey: created.body.key });
        expect(statSync(join(home, 'confab', 'config.json')).mode & 0o777).toBe(0o600);

        const whoami = await runCli(home, ['whoami']);
        expect(whoami.stdout).toContain(account.email);
        expect(whoami.stdout).toContain('API key');
        expect(await runCli(home, ['ask', 'with a key'])).toMatchObject({ code: 0, stdout: 'You said: with a key\n' });

        // CONFAB_API_KEY needs no login at all.
        const env = { CONFAB_SERVER: app.url, CONFAB_API_KEY: created.body.key };
        expect(await runCli(tempDir('confab-cli-'), ['ask', 'from the env'], { env })).toMatchObject({ code: 0 });

        const revoked = await app.request('DELETE', `/auth/me/keys/${created.body.id}`, { token: account.accessToken });
        expect(revoked.status).toBe(204);
        const refused = await runCli(home, ['ask', 'again']);
        expectOneLineFailure(refused, 4);
        expect(refused.stderr).toContain('refused the stored API key');
      },
      SLOW,
    );

    it(
      'should refuse bad credentials with one line and exit 4',
      async () => {
        const account = await app.signUp();
        const home = tempDir('confab-cli-');
        const result = await runCli(home, ['login', '--server', app.url], {
          input: `${account.email}\nwrong password\n`,
        });
        expectOneLineFailure(result, 4);
        expect(result.stderr).toMatch(/unauthorized/);
      },
      SLOW,
    );

    it(
      'should say how to sign in when nothing is stored, and log out for good',
      async () => {
        const home = tempDir('confab-cli-');
        const anonymous = await runCli(home, ['ask', 'hello'], { env: { CONFAB_SERVER: app.url } });
        expectOneLineFailure(anonymous, 4);
        expect(anonymous.stderr).toContain('confab login');

        const { home: signedIn } = await loggedIn();
        const { refreshToken } = stored(signedIn);
        const logout = await runCli(signedIn, ['logout']);
        expect(logout.code).toBe(0);
        expect(stored(signedIn).refreshToken).toBeUndefined();
        expect((await app.request('POST', '/auth/refresh', { body: { refreshToken } })).status).toBe(401);
      },
      SLOW,
    );
  });

  describe('ask', () => {
    it(
      'should print the answer to a question given as an argument, in a new thread',
      async () => {
        const { home, account } = await loggedIn();
        const result = await runCli(home, ['ask', 'hello', 'there']);
        expect(result).toMatchObject({ code: 0, stdout: 'You said: hello there\n' });
        const threads = await app.request('GET', '/threads', { token: account.accessToken });
        expect(threads.body.items).toHaveLength(1);
        const messages = await app.request('GET', `/threads/${threads.body.items[0].id}/messages`, {
          token: account.accessToken,
        });
        expect(messages.body.items.map((m: any) => [m.role, m.content, m.status])).toEqual([
          ['user', 'hello there', 'complete'],
          ['assistant', 'You said: hello there', 'complete'],
        ]);
      },
      SLOW,
    );

    it(
      'should add piped stdin after the question and honour --model and --system',
      async () => {
        const { home } = await loggedIn();
        const result = await runCli(home, ['ask', '--model', 'gpt-other', '--system', 'Be terse.', 'review this'], {
          input: 'diff --git a/x b/x\n+added line\n',
        });
        expect(result.code).toBe(0);
        const request = app.upstream.chatRequests.find((r) => lastUserText(r.body).startsWith('review this'))!;
        expect(request.body.model).toBe('gpt-other');
        expect(request.body.messages).toEqual([
          { role: 'system', content: 'Be terse.' },
          { role: 'user', content: 'review this\n\ndiff --git a/x b/x\n+added line' },
        ]);
        expect(result.stdout).toBe('You said: review this diff --git a/x b/x +added line\n');
      },
      SLOW,
    );

    it(
      'should print the final message as JSON with --json, and continue a thread with --thread',
      async () => {
        const { home } = await loggedIn();
        const first = await runCli(home, ['ask', '--json', 'one']);
        expect(first.code).toBe(0);
        const message = JSON.parse(first.stdout);
        expect(message).toMatchObject({ role: 'assistant', status: 'complete', content: 'You said: one' });

        const second = await runCli(home, ['ask', '--json', '--thread', message.threadId, 'two']);
        expect(JSON.parse(second.stdout)).toMatchObject({ threadId: message.threadId, parentId: expect.any(String) });
        const followUp = app.upstream.chatRequests.find((r) => lastUserText(r.body) === 'two');
        expect(followUp?.body.messages).toEqual([
          { role: 'user', content: 'one' },
          { role: 'assistant', content: 'You said: one' },
          { role: 'user', content: 'two' },
        ]);
      },
      SLOW,
    );

    it(
      'should list threads (tab-separated when piped, --q, --json) and show one as Markdown or JSON',
      async () => {
        const { home } = await loggedIn();
        const asked = JSON.parse((await runCli(home, ['ask', '--json', 'find the needle'])).stdout);
        await runCli(home, ['ask', 'something else']);

        const listed = await runCli(home, ['threads']);
        expect(listed.code).toBe(0);
        const rows = listed.stdout
          .trimEnd()
          .split('\n')
          .map((line) => line.split('\t'));
        expect(rows).toHaveLength(2);
        expect(rows.map((r) => r[0])).toContain(asked.threadId);
        const found = JSON.parse((await runCli(home, ['threads', '--q', 'needle', '--json'])).stdout);
        expect(found.items.map((t: any) => t.id)).toEqual([asked.threadId]);

        const markdown = await runCli(home, ['show', asked.threadId]);
        expect(markdown.code).toBe(0);
        expect(markdown.stdout).toMatch(
          /## You\n\nfind the needle\n\n## Assistant \(gpt-test\)\n\nYou said: find the needle/,
        );
        const json = JSON.parse((await runCli(home, ['show', asked.threadId, '--format', 'json'])).stdout);
        expect(json.messages.map((m: any) => m.content)).toEqual(['find the needle', 'You said: find the needle']);
        expectOneLineFailure(await runCli(home, ['show', '0123456789abcdef01234567']), 1);
      },
      SLOW,
    );

    it(
      'should print escape sequences from the model inert',
      async () => {
        const { home } = await loggedIn();
        app.upstream.enqueue({
          tokens: [
            '\x1b]0;pwned\x07',
            'Hi',
            ' \x1b[2J\x1b[31mred\x1b[0m',
            ' \x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\',
            '\x9b1A',
          ],
        });
        const result = await runCli(home, ['ask', 'hello']);
        expect(result.code).toBe(0);
        expect(result.stdout).toBe('Hi red link1A\n');
        // eslint-disable-next-line no-control-regex
        expect(result.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
      },
      SLOW,
    );
  });

  describe('failures', () => {
    it(
      'should exit 1 with one line when the server is down',
      async () => {
        const { home } = await loggedIn();
        const port = await freePort();
        const result = await runCli(home, ['ask', 'hello'], {
          env: { CONFAB_SERVER: `http://127.0.0.1:${port}`, CONFAB_API_KEY: 'cfk_unused' },
        });
        expectOneLineFailure(result, 1);
        expect(result.stderr).toContain(`cannot reach the confab server at http://127.0.0.1:${port}`);
      },
      SLOW,
    );

    it(
      'should exit 1 with one line for an unknown model',
      async () => {
        const { home } = await loggedIn();
        const result = await runCli(home, ['ask', '--model', 'no-such-model', 'hello']);
        expectOneLineFailure(result, 1);
        expect(result.stderr).toMatch(/model: unknown model/);
      },
      SLOW,
    );

    it(
      'should keep the partial answer and exit 1 with one line when the upstream fails mid-stream',
      async () => {
        const { home } = await loggedIn();
        app.upstream.enqueue({ tokens: ['Partial', ' answer', ' never', ' ends'], dropAfter: 2 });
        const result = await runCli(home, ['ask', 'hello']);
        expectOneLineFailure(result, 1);
        expect(result.stdout).toBe('Partial answer\n');
        expect(result.stderr).toMatch(/the reply failed: .*\[upstream_error\]/);
      },
      SLOW,
    );

    it(
      'should exit 1 with one line when the daily quota is used up',
      async () => {
        const { home } = await loggedIn();
        app.upstream.enqueue({ usage: { prompt_tokens: 4000, completion_tokens: 1000 } });
        expect((await runCli(home, ['ask', 'spend it all'])).code).toBe(0);
        const result = await runCli(home, ['ask', 'one more']);
        expectOneLineFailure(result, 1);
        expect(result.stderr).toMatch(/quota_exceeded/);
      },
      SLOW,
    );

    it(
      'should exit 2 for bad usage',
      async () => {
        const { home } = await loggedIn();
        expect((await runCli(home, ['ask'])).code).toBe(2);
        expect((await runCli(home, ['threads', '--limit', 'zero'])).code).toBe(2);
        expect((await runCli(home, ['frobnicate'])).code).toBe(2);
      },
      SLOW,
    );
  });
});
