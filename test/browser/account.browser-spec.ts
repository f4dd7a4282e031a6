/// <reference lib="dom" />
import { readFileSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { lastUserText } from '../support/fake-upstream';
import {
  axeViolations,
  BROWSER_TIMEOUT_MS,
  newPerson,
  openPage,
  screenshot,
  signUp,
  type TestPerson,
  type WebStack,
  startWebStack,
} from '../support/web-harness';

/**
 * Account settings (/settings): password change signing out the other device, usage, export, deletion ending on
 * the goodbye screen; screenshots, axe-core and a 375 px phone.
 */
describe('web app: account settings', () => {
  let stack: WebStack;
  const contexts: BrowserContext[] = [];
  const problems: string[][] = [];

  beforeAll(async () => {
    stack = await startWebStack({ env: { USER_DAILY_TOKEN_LIMIT: '50000' } });
    // Titles are counted as usage too: the title call reports nothing spent, so the day's total is the reply's.
    stack.upstream.script = (body) =>
      String(body.messages?.[0]?.content).startsWith('You name conversations')
        ? { tokens: ['Counting', ' usage'], usage: { prompt_tokens: 0, completion_tokens: 0 } }
        : lastUserText(body).startsWith('usage:')
          ? { tokens: ['Counted.'], usage: { prompt_tokens: 1200, completion_tokens: 800 } }
          : undefined;
    // The first account is the instance's admin: the people of these tests are plain users.
    await fetch(`${stack.server.url}/api/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'first-admin@example.com', password: 'first-admin-pw', name: 'First' }),
    });
  }, BROWSER_TIMEOUT_MS);
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close()));
    expect(problems.splice(0).flat()).toEqual([]);
  });
  afterAll(async () => {
    await stack?.close();
  });

  async function device(options: Parameters<WebStack['browser']['newContext']>[0] = {}): Promise<Page> {
    const context = await stack.browser.newContext({ viewport: { width: 1200, height: 800 }, ...options });
    contexts.push(context);
    const opened = await openPage(context, stack.url);
    problems.push(opened.problems);
    return opened.page;
  }

  async function signIn(page: Page, person: TestPerson): Promise<void> {
    await page.goto(`${stack.url}/signin`);
    await page.getByLabel('Email').fill(person.email);
    await page.getByLabel('Password').fill(person.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('textbox', { name: 'Message' }).waitFor();
  }

  async function ask(page: Page, text: string): Promise<void> {
    const box = page.getByRole('textbox', { name: 'Message' });
    await box.fill(text);
    await box.press('Enter');
    await page.waitForURL(/\/t\/[0-9a-f]{24}$/);
    await page.getByRole('button', { name: 'Send message' }).waitFor({ timeout: 30_000 });
  }

  const openSettings = async (page: Page) => {
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
  };

  it(
    'should change the password and sign the other device out, saying so on both',
    async () => {
      const person = newPerson();
      const laptop = await device();
      await signUp(laptop, stack.url, person);
      const phone = await device();
      await signIn(phone, person);

      await openSettings(laptop);
      const sessions = laptop.getByRole('region', { name: 'Sessions' });
      await sessions.getByRole('listitem').nth(1).waitFor();
      await expect(sessions.getByText('This device').count()).resolves.toBe(1);
      const password = laptop.getByRole('region', { name: 'Password' });
      await password.getByLabel('Current password').fill(person.password);
      await password.getByLabel('New password', { exact: true }).fill('a-brand-new-password');
      await password.getByLabel('Repeat new password').fill('a-brand-new-password');
      await password.getByRole('button', { name: 'Change password' }).click();
      await password.getByRole('status').filter({ hasText: '1 other session was signed out' }).waitFor();

      // The other device is told at once (its socket is cut) and lands on the sign-in page with the reason.
      await phone.getByRole('heading', { name: 'Sign in to confab' }).waitFor({ timeout: 20_000 });
      await phone.getByRole('alert').filter({ hasText: 'session has ended' }).waitFor();
      await sessions.getByRole('listitem').nth(1).waitFor({ state: 'detached' });
      // This device stays signed in, and the new password is the one that works.
      await laptop.reload();
      await laptop.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
      await signIn(phone, { ...person, password: 'a-brand-new-password' });
    },
    BROWSER_TIMEOUT_MS,
  );

  it(
    'should download an export that holds the person\u2019s threads',
    async () => {
      const page = await device();
      await signUp(page, stack.url, newPerson());
      await ask(page, 'Remember the word periwinkle');
      await openSettings(page);
      const exporting = page.waitForEvent('download');
      await page.getByRole('button', { name: 'Download export' }).click();
      const download = await exporting;
      expect(download.suggestedFilename()).toMatch(/^confab-export-\d{4}-\d{2}-\d{2}\.json$/);
      const file = JSON.parse(readFileSync((await download.path())!, 'utf8')) as {
        threads: { messages: { role: string; content: string }[] }[];
      };
      expect(file.threads).toHaveLength(1);
      expect(file.threads[0].messages.map((m) => m.content)).toEqual(
        expect.arrayContaining(['Remember the word periwinkle']),
      );
      expect(file.threads[0].messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    },
    BROWSER_TIMEOUT_MS,
  );

  it(
    'should delete the account after the password is given, and end on the goodbye screen',
    async () => {
      const person = newPerson();
      const page = await device();
      await signUp(page, stack.url, person);
      await openSettings(page);
      const danger = page.getByRole('region', { name: 'Delete account' });
      await danger.getByLabel('Your password').fill('not my password');
      await danger.getByRole('button', { name: 'Delete my account' }).click();
      await danger.getByRole('alert').filter({ hasText: 'Nothing was deleted' }).waitFor();
      await danger.getByLabel('Your password').fill(person.password);
      await danger.getByRole('button', { name: 'Delete my account' }).click();
      await page.getByRole('heading', { name: 'Your account has been deleted' }).waitFor();
      expect(new URL(page.url()).pathname).toBe('/goodbye');
      expect(await page.evaluate(() => localStorage.getItem('confab.session'))).toBeNull();
      const login = await fetch(`${stack.server.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: person.email, password: person.password }),
      });
      expect(login.status).toBe(401);
    },
    BROWSER_TIMEOUT_MS,
  );

  const variants = [
    { name: 'desktop-light', viewport: { width: 1280, height: 860 }, colorScheme: 'light' as const },
    { name: 'desktop-dark', viewport: { width: 1280, height: 860 }, colorScheme: 'dark' as const },
    { name: 'phone-light', viewport: { width: 375, height: 740 }, colorScheme: 'light' as const },
    { name: 'phone-dark', viewport: { width: 375, height: 740 }, colorScheme: 'dark' as const },
  ];

  it.each(variants)(
    'should look right and stay accessible: settings and usage, $name',
    async ({ name, viewport, colorScheme }) => {
      const page = await device({ viewport, colorScheme, reducedMotion: 'reduce' });
      await signUp(page, stack.url, newPerson());
      await ask(page, 'usage: count this');
      if (viewport.width < 768) {
        await page.getByRole('button', { name: 'Open chats' }).click();
      }
      await openSettings(page);
      const usage = page.getByRole('region', { name: 'Usage' });
      await usage.getByText('2,000').first().waitFor();
      await page.getByRole('region', { name: 'Sessions' }).getByText('This device').waitFor();
      await screenshot(page, `${name}-settings`);
      expect(await axeViolations(page)).toEqual([]);
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      expect(await page.evaluate(() => document.querySelector('.page-scroller')!.scrollWidth)).toBeLessThanOrEqual(
        viewport.width,
      );
      await usage.scrollIntoViewIfNeeded();
      await expect(usage.getByRole('img', { name: /Tokens per day/ }).getAttribute('aria-label')).resolves.toMatch(
        /2,000 in all/,
      );
      await screenshot(page, `${name}-usage`);
      const keys = page.getByRole('region', { name: 'API keys' });
      await keys.getByLabel('Key name').fill('Laptop script');
      await keys.getByRole('button', { name: 'Create key' }).click();
      await keys.getByRole('status').getByText(/^cfk_/).waitFor();
      await keys.getByRole('list', { name: 'Your API keys' }).getByText('Laptop script').waitFor();
      await keys.scrollIntoViewIfNeeded();
      await screenshot(page, `${name}-api-keys`);
      expect(await axeViolations(page)).toEqual([]);
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    },
    BROWSER_TIMEOUT_MS,
  );
});
