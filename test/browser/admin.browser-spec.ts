/// <reference lib="dom" />
import type { BrowserContext, Page } from 'playwright-core';
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
 * The admin console (/admin): search and disable (the user's open page is signed out at once), the last-admin
 * rule in words, delete after typing the email, "not found" and 403 for everyone else; screenshots, axe-core, phone.
 */
describe('web app: admin console', () => {
  let stack: WebStack;
  const admin: TestPerson = { name: 'Ada Admin', email: 'ada-admin@example.com', password: 'ada-admin-password' };
  const contexts: BrowserContext[] = [];
  const problems: string[][] = [];

  beforeAll(async () => {
    stack = await startWebStack();
    const res = await fetch(`${stack.server.url}/api/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(admin),
    });
    expect(res.status).toBe(201);
  }, BROWSER_TIMEOUT_MS);
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close()));
    expect(problems.splice(0).flat()).toEqual([]);
  });
  afterAll(async () => {
    await stack?.close();
  });

  async function device(options: Parameters<WebStack['browser']['newContext']>[0] = {}): Promise<Page> {
    const context = await stack.browser.newContext({ viewport: { width: 1280, height: 860 }, ...options });
    contexts.push(context);
    const opened = await openPage(context, stack.url);
    problems.push(opened.problems);
    return opened.page;
  }

  async function signInAsAdmin(page: Page): Promise<void> {
    await page.goto(`${stack.url}/signin`);
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('textbox', { name: 'Message' }).waitFor();
  }

  async function openAdmin(page: Page): Promise<void> {
    if ((page.viewportSize()?.width ?? 1280) < 768) {
      await page.getByRole('button', { name: 'Open chats' }).click();
    }
    await page.getByRole('link', { name: 'Admin console' }).click();
    await page.getByRole('heading', { name: 'Admin', level: 1 }).waitFor();
  }

  const row = (page: Page, email: string) => page.getByRole('row').filter({ hasText: email });

  it(
    'should find a user, disable them and sign their open page out at once with a message',
    async () => {
      const person = newPerson();
      const theirs = await device();
      await signUp(theirs, stack.url, person);

      const page = await device();
      await signInAsAdmin(page);
      await openAdmin(page);
      await page.getByRole('searchbox', { name: 'Search users by email or name' }).fill(person.email.toUpperCase());
      await page.getByRole('row').nth(2).waitFor({ state: 'detached' }); // the header and the one match
      await row(page, person.email).getByRole('cell', { name: 'Active' }).waitFor();
      await page.getByRole('button', { name: `Disable ${person.email}` }).click();
      await page
        .getByRole('status')
        .filter({ hasText: `${person.email} is disabled` })
        .waitFor();
      await row(page, person.email).getByText('Disabled').waitFor();

      await theirs.getByRole('heading', { name: 'Sign in to confab' }).waitFor({ timeout: 20_000 });
      await theirs
        .getByRole('alert')
        .filter({ hasText: /disabled|session has ended/ })
        .waitFor();
      await page.getByRole('button', { name: `Enable ${person.email}` }).click();
      await row(page, person.email).getByText('Active').waitFor();
    },
    BROWSER_TIMEOUT_MS,
  );

  it(
    'should refuse to let the last admin demote themself, and say why',
    async () => {
      const page = await device();
      await signInAsAdmin(page);
      await openAdmin(page);
      await page.getByRole('searchbox', { name: 'Search users by email or name' }).fill(admin.email);
      await page.getByRole('button', { name: `Make user: ${admin.email}` }).click();
      await page
        .getByRole('alert')
        .filter({ hasText: 'You are the last admin of this instance, so you cannot make yourself a user' })
        .waitFor();
      await row(page, admin.email).getByText('admin', { exact: true }).waitFor();
    },
    BROWSER_TIMEOUT_MS,
  );

  it(
    'should delete a user only once their email is typed',
    async () => {
      const person = newPerson();
      const signup = await fetch(`${stack.server.url}/api/auth/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(person),
      });
      expect(signup.status).toBe(201);
      const page = await device();
      await signInAsAdmin(page);
      await openAdmin(page);
      await page.getByRole('searchbox', { name: 'Search users by email or name' }).fill(person.email);
      await page.getByRole('button', { name: `Delete ${person.email}` }).click();
      const dialog = page.getByRole('dialog', { name: `Delete ${person.email}?` });
      const confirm = dialog.getByRole('button', { name: 'Delete user' });
      expect(await confirm.isDisabled()).toBe(true);
      await dialog.getByLabel('Type their email to confirm').fill(person.email.slice(0, -1));
      expect(await confirm.isDisabled()).toBe(true);
      await dialog.getByLabel('Type their email to confirm').fill(person.email);
      await confirm.click();
      await page
        .getByRole('status')
        .filter({ hasText: `${person.email} was deleted` })
        .waitFor();
      await page.getByText('No user matches.').waitFor();
    },
    BROWSER_TIMEOUT_MS,
  );

  it(
    'should show a plain user "not found" at /admin with no link to it, and the admin API answers 403',
    async () => {
      const page = await device();
      await signUp(page, stack.url, newPerson());
      await page.getByRole('link', { name: 'Settings' }).waitFor();
      expect(await page.getByRole('link', { name: 'Admin console' }).count()).toBe(0);
      await page.goto(`${stack.url}/admin`);
      await page.getByRole('heading', { name: 'Page not found' }).waitFor();
      await page.goto(`${stack.url}/admin/audit`);
      await page.getByRole('heading', { name: 'Page not found' }).waitFor();
      const token = await page.evaluate(
        () => (JSON.parse(localStorage.getItem('confab.session')!) as { accessToken: string }).accessToken,
      );
      for (const path of ['/admin/users', '/admin/audit', '/admin/stats']) {
        const res = await fetch(`${stack.server.url}/api${path}`, { headers: { authorization: `Bearer ${token}` } });
        expect([path, res.status]).toEqual([path, 403]);
      }
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
    'should look right and stay accessible: users and audit log, $name',
    async ({ name, viewport, colorScheme }) => {
      const page = await device({ viewport, colorScheme, reducedMotion: 'reduce' });
      await signInAsAdmin(page);
      await openAdmin(page);
      await page.getByRole('region', { name: 'Users' }).getByRole('row').nth(1).waitFor();
      await page.getByRole('region', { name: 'Statistics' }).getByText('Messages').waitFor();
      await screenshot(page, `${name}-admin-users`);
      expect(await axeViolations(page)).toEqual([]);
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);

      await page.getByRole('link', { name: 'Audit log' }).click();
      await page.getByRole('region', { name: 'Audit log' }).getByRole('row').nth(1).waitFor();
      await page.getByLabel('User (email or id)').fill(admin.email);
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.getByRole('region', { name: 'Audit log' }).getByText('Signed up').first().waitFor();
      await screenshot(page, `${name}-admin-audit`);
      expect(await axeViolations(page)).toEqual([]);
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    },
    BROWSER_TIMEOUT_MS,
  );
});
