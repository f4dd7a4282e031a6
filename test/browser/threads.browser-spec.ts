/// <reference lib="dom" />
import type { BrowserContext, Page } from 'playwright-core';
import {
  BROWSER_TIMEOUT_MS,
  newPerson,
  openPage,
  screenshot,
  signUp,
  type WebStack,
  startWebStack,
} from '../support/web-harness';

/** The sidebar and the session: search, rename, delete, not found, sign out and in again. */
describe('web app: threads and session', () => {
  let stack: WebStack;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];

  beforeAll(async () => {
    stack = await startWebStack();
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

  async function newChat(text: string): Promise<string> {
    // The sidebar's button comes first; a thread may be titled "New chat" too until its title is generated.
    await page.getByRole('link', { name: 'New chat', exact: true }).first().click();
    const box = page.getByRole('textbox', { name: 'Message' });
    await box.fill(text);
    await box.press('Enter');
    await page.waitForURL(/\/t\/[0-9a-f]{24}$/);
    await page.getByRole('button', { name: 'Send message' }).waitFor({ timeout: 20_000 });
    return page.url();
  }
  const recent = () => page.getByRole('list', { name: 'Recent chats' });
  const results = () => page.getByRole('list', { name: 'Search results' });

  it(
    'should find chats by message text as you type, rename one inline and delete one after confirming',
    async () => {
      await signUp(page, stack.url, newPerson());
      await newChat('Tell me about pelicans');
      await newChat('Explain quantum tunnelling');
      await newChat('A recipe for focaccia');
      await recent().getByRole('listitem').nth(2).waitFor();
      // Generated titles have replaced the placeholder live, without a reload: thread:updated reaches every tab of
      // the owner, whether it is still in that thread's room or has moved on to the next chat.
      await recent().getByRole('link', { name: 'New chat', exact: true }).first().waitFor({ state: 'detached' });

      await page.getByRole('searchbox', { name: 'Search chats' }).fill('tunnel');
      await page.getByRole('status').filter({ hasText: '1 result' }).waitFor();
      expect(await results().getByRole('listitem').count()).toBe(1);
      const hit = results().getByRole('link');
      // Why it matched, under the title: a snippet of the newest matching message, the searched word marked.
      const snippet = hit.locator('.thread-snippet');
      await snippet.waitFor();
      expect(await snippet.innerText()).toContain('quantum tunnelling');
      const marks = await snippet.locator('mark').allInnerTexts();
      expect(marks.length).toBeGreaterThan(0);
      expect(marks.map((m) => m.toLowerCase())).toEqual(marks.map(() => 'tunnel'));
      await screenshot(page, 'desktop-search-snippet');
      await hit.click();
      await page.getByRole('article', { name: 'You said' }).getByText('Explain quantum tunnelling').waitFor();
      await page.getByRole('searchbox', { name: 'Search chats' }).fill('');
      await recent().getByRole('listitem').nth(2).waitFor();

      const title = await recent().getByRole('link').first().innerText();
      await page.getByRole('button', { name: `Rename chat ${title}` }).click();
      const input = page.getByRole('textbox', { name: 'Chat title' });
      await input.fill('Pelicans and friends');
      await input.press('Enter');
      await recent().getByRole('link', { name: 'Pelicans and friends' }).waitFor();
      await page.reload();
      await recent().getByRole('link', { name: 'Pelicans and friends' }).waitFor();

      await page.getByRole('button', { name: 'Delete chat Pelicans and friends' }).click();
      const dialog = page.getByRole('dialog', { name: 'Delete chat?' });
      await dialog.getByRole('button', { name: 'Delete' }).click();
      await recent().getByRole('link', { name: 'Pelicans and friends' }).waitFor({ state: 'detached' });
      await page.reload();
      await recent().getByRole('listitem').nth(1).waitFor();
      expect(await recent().getByRole('link', { name: 'Pelicans and friends' }).count()).toBe(0);
    },
    BROWSER_TIMEOUT_MS,
  );

  it(
    'should load more chats as the sidebar scrolls',
    async () => {
      await signUp(page, stack.url, newPerson());
      const token = await page.evaluate(
        () => (JSON.parse(localStorage.getItem('confab.session')!) as { accessToken: string }).accessToken,
      );
      for (let i = 0; i < 35; i++) {
        const res = await fetch(`${stack.url}/api/threads`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ title: `Bulk chat ${String(i).padStart(2, '0')}` }),
        });
        expect(res.status).toBe(201);
      }
      await page.reload();
      await recent().getByRole('link', { name: 'Bulk chat 34' }).waitFor();
      // The first page holds 30: the oldest arrive once the end of the list is scrolled into view.
      expect(await recent().getByRole('link', { name: 'Bulk chat 00' }).count()).toBe(0);
      await recent()
        .getByRole('link', { name: /Bulk chat/ })
        .last()
        .scrollIntoViewIfNeeded();
      await recent().getByRole('link', { name: 'Bulk chat 00' }).waitFor();
      expect(
        await recent()
          .getByRole('link', { name: /Bulk chat/ })
          .count(),
      ).toBe(35);
    },
    BROWSER_TIMEOUT_MS,
  );

  it(
    'should sign out, sign in again and find the history',
    async () => {
      const person = newPerson();
      await signUp(page, stack.url, person);
      const url = await newChat('Remember the word marmalade');
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to confab' }).waitFor();
      // Signed out means signed out: the thread's address now asks for a sign-in.
      await page.goto(url);
      await page.getByRole('heading', { name: 'Sign in to confab' }).waitFor();
      await page.getByLabel('Email').fill(person.email);
      await page.getByLabel('Password').fill('wrong password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').waitFor();
      await page.getByLabel('Password').fill(person.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await recent().getByRole('link').first().click();
      await page.getByRole('article', { name: 'You said' }).getByText('Remember the word marmalade').waitFor();
      await page
        .getByRole('article', { name: /replied/ })
        .getByText('marmalade')
        .waitFor();
    },
    BROWSER_TIMEOUT_MS,
  );

  it(
    'should show "not found" for a wrong or foreign thread id, not a blank page',
    async () => {
      const owner = newPerson();
      await signUp(page, stack.url, owner);
      const url = await newChat('Private thoughts');
      await page.getByRole('button', { name: 'Sign out' }).click();
      await signUp(page, stack.url, newPerson());
      await page.goto(url);
      await page.getByRole('heading', { name: 'Chat not found' }).waitFor();
      await page.goto(`${stack.url}/t/0123456789abcdef01234567`);
      await page.getByRole('heading', { name: 'Chat not found' }).waitFor();
      await page.goto(`${stack.url}/no/such/page`);
      await page.getByRole('heading', { name: 'Page not found' }).waitFor();
      await page.goBack();
      await page.getByRole('heading', { name: 'Chat not found' }).waitFor();
    },
    BROWSER_TIMEOUT_MS,
  );
});
