/// <reference lib="dom" />
import type { BrowserContext } from 'playwright-core';
import { lastUserText } from '../support/fake-upstream';
import { BROWSER_TIMEOUT_MS, newPerson, openPage, signUp, type WebStack, startWebStack } from '../support/web-harness';

describe('web app: chat', () => {
  let stack: WebStack;
  let context: BrowserContext;

  beforeAll(async () => {
    stack = await startWebStack();
    stack.upstream.script = (body) => {
      const text = lastUserText(body);
      if (text.startsWith('slow:')) {
        return { tokens: Array.from({ length: 40 }, (_, i) => `word${i} `), tokenDelayMs: 40 };
      }
      return undefined;
    };
  }, BROWSER_TIMEOUT_MS);
  beforeEach(async () => {
    context = await stack.browser.newContext({ viewport: { width: 1280, height: 800 } });
  });
  afterEach(async () => {
    await context.close();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it(
    'should sign up, send a message and show the answer streaming in',
    async () => {
      const { page, problems } = await openPage(context, stack.url);
      await page.getByRole('heading', { name: 'Sign in to confab' }).waitFor();
      await signUp(page, stack.url, newPerson());
      const box = page.getByRole('textbox', { name: 'Message' });
      await box.fill('slow: tell me a story');
      await box.press('Enter');
      await page.waitForURL(/\/t\/[0-9a-f]{24}$/);
      const answer = page.getByRole('article', { name: /replied/ });
      // Part of the answer is visible while the Stop button still is: it streams.
      await answer.getByText('word3', { exact: false }).waitFor();
      await page.getByRole('button', { name: 'Stop generating' }).waitFor();
      expect(await answer.textContent()).not.toContain('word39');
      await answer.getByText('word39').waitFor();
      await page.getByRole('button', { name: 'Send message' }).waitFor();
      expect(await page.getByRole('article', { name: 'You said' }).textContent()).toContain('slow: tell me a story');
      // The context gauge: what the model saw of its window.
      expect(await page.getByRole('meter', { name: 'Context used' }).getAttribute('max')).toBe('16000');
      expect(problems).toEqual([]);
    },
    BROWSER_TIMEOUT_MS,
  );
});
