/// <reference lib="dom" />
import type { BrowserContext, Page } from 'playwright-core';
import { lastUserText } from '../support/fake-upstream';
import { BROWSER_TIMEOUT_MS, newPerson, openPage, signUp, type WebStack, startWebStack } from '../support/web-harness';

const SLOW_WORDS = Array.from({ length: 40 }, (_, i) => `w${i} `);
const SLOW_TEXT = SLOW_WORDS.join('').trim();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Sessions and trouble: access tokens that expire every few seconds (refreshed in two tabs at once: the client
 * serializes refreshes under a Web Lock; the server's reuse grace covers the moment Chromium has not yet carried one
 * tab's localStorage write to the other), a network cut mid-answer, a disabled account, the daily quota and an
 * upstream failure.
 */
describe('web app: sessions, network and failures', () => {
  let stack: WebStack;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  const ADMIN = { email: 'admin@example.com', password: 'admin-password-1', name: 'Admin' };
  const failures = new Set<string>();

  beforeAll(async () => {
    stack = await startWebStack({
      proxy: true,
      env: { ACCESS_TOKEN_TTL: '4s', USER_DAILY_TOKEN_LIMIT: '3000' },
    });
    stack.upstream.script = (body) => {
      const text = lastUserText(body);
      if (text.startsWith('slow:')) {
        return { tokens: SLOW_WORDS, tokenDelayMs: 100 };
      }
      if (text.startsWith('big:')) {
        return { tokens: ['A big answer.'], usage: { prompt_tokens: 2000, completion_tokens: 2000 } };
      }
      if (text.startsWith('flaky:') && !failures.has(text)) {
        failures.add(text);
        return { status: 500, errorBody: { error: { message: 'upstream exploded', type: 'server_error' } } };
      }
      return undefined;
    };
    const res = await fetch(`${stack.server.url}/api/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    expect(res.status).toBe(201);
  }, BROWSER_TIMEOUT_MS);
  beforeEach(async () => {
    context = await stack.browser.newContext({ viewport: { width: 1200, height: 800 } });
    ({ page, problems } = await openPage(context, stack.url));
  }, BROWSER_TIMEOUT_MS);
  afterEach(async () => {
    expect(problems).toEqual([]);
    await context.close();
  });
  afterAll(async () => {
    await stack?.close();
  });

  /** An admin API call with a fresh sign-in: access tokens live four seconds here. */
  async function asAdmin(path: string, init: { method?: string; body?: unknown } = {}): Promise<Response> {
    const login = await fetch(`${stack.server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: ADMIN.email, password: ADMIN.password }),
    });
    const { accessToken } = (await login.json()) as { accessToken: string };
    return fetch(`${stack.server.url}/api${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  }

  async function ask(p: Page, text: string): Promise<void> {
    const box = p.getByRole('textbox', { name: 'Message' });
    await box.fill(text);
    await box.press('Enter');
  }
  const answer = (p: Page) => p.getByRole('article', { name: /replied/ }).last();
  const idle = (p: Page) => p.getByRole('button', { name: 'Send message' }).waitFor({ timeout: 30_000 });

  it(
    'should stay signed in in two tabs while the access token expires and is refreshed several times',
    async () => {
      await signUp(page, stack.url, newPerson());
      const second = await context.newPage();
      second.on('pageerror', (err) => problems.push(`second tab: ${err.message}`));
      await second.goto(stack.url);
      await second.getByRole('textbox', { name: 'Message' }).waitFor();
      await sleep(10_000); // two or three refreshes in each tab
      await ask(second, 'still there?');
      await answer(second).getByText('still there?', { exact: false }).waitFor();
      await page.reload();
      await page.getByRole('link', { name: /still there/ }).waitFor();
      expect(page.url()).not.toContain('/signin');
    },
    BROWSER_TIMEOUT_MS,
  );

  it(
    'should say it is reconnecting when the network drops mid-answer, then continue with a renewed token and no gap',
    async () => {
      await signUp(page, stack.url, newPerson());
      await ask(page, 'slow: keep going');
      await answer(page).getByText('w3', { exact: false }).waitFor();
      stack.proxy!.block();
      stack.proxy!.cut();
      await page.getByRole('status').filter({ hasText: 'Reconnecting' }).waitFor();
      await sleep(5000); // the access token expires meanwhile: the reconnect must renew it
      stack.proxy!.unblock();
      await page
        .getByRole('status')
        .filter({ hasText: 'Reconnecting' })
        .waitFor({ state: 'detached', timeout: 20_000 });
      await answer(page).getByText('w39', { exact: false }).waitFor({ timeout: 20_000 });
      await idle(page);
      expect((await answer(page).locator('.markdown').innerText()).trim()).toBe(SLOW_TEXT);
    },
    BROWSER_TIMEOUT_MS,
  );

  it(
    'should land on the sign-in page with a message when an admin disables the account',
    async () => {
      const person = newPerson();
      await signUp(page, stack.url, person);
      const users = await asAdmin(`/admin/users?q=${encodeURIComponent(person.email)}`);
      const { items } = (await users.json()) as { items: { id: string }[] };
      expect(items).toHaveLength(1);
      const res = await asAdmin(`/admin/users/${items[0].id}`, { method: 'PATCH', body: { disabled: true } });
      expect(res.status).toBe(200);
      await page.getByRole('heading', { name: 'Sign in to confab' }).waitFor();
      await page
        .getByRole('alert')
        .filter({ hasText: /disabled|session has ended/ })
        .waitFor();
    },
    BROWSER_TIMEOUT_MS,
  );

  it(
    'should say so when the daily token quota is reached',
    async () => {
      await signUp(page, stack.url, newPerson());
      await ask(page, 'big: one');
      await answer(page).getByText('A big answer.').waitFor();
      await idle(page);
      // That one answer used 4000 tokens of the 3000 a day: the next question is refused, and says why.
      await ask(page, 'big: two');
      await page.getByRole('alert').filter({ hasText: 'daily token limit' }).waitFor();
      // The text is kept for later.
      expect(await page.getByRole('textbox', { name: 'Message' }).inputValue()).toBe('big: two');
    },
    BROWSER_TIMEOUT_MS,
  );

  it(
    'should show an upstream failure in place with Retry, and retry',
    async () => {
      await signUp(page, stack.url, newPerson());
      await ask(page, 'flaky: hello');
      const failed = page.getByRole('article', { name: /replied/ }).last();
      await failed.getByRole('alert').waitFor();
      await failed.getByRole('alert').getByRole('button', { name: 'Retry' }).click();
      await answer(page).getByText('You said: flaky: hello').waitFor();
      await idle(page);
      await page.reload();
      await answer(page).getByText('You said: flaky: hello').waitFor();
    },
    BROWSER_TIMEOUT_MS,
  );
});
