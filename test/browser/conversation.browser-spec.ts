/// <reference lib="dom" />
import type { BrowserContext, Page } from 'playwright-core';
import { lastUserText } from '../support/fake-upstream';
import { BROWSER_TIMEOUT_MS, newPerson, openPage, signUp, type WebStack, startWebStack } from '../support/web-harness';

const SLOW_WORDS = Array.from({ length: 40 }, (_, i) => `word${i} `);
const SLOW_TEXT = SLOW_WORDS.join('').trim();

/** Stop, regenerate, edit and branches, reload mid-stream and a second tab: the conversation itself. */
describe('web app: conversation', () => {
  let stack: WebStack;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  let answers = 0;

  beforeAll(async () => {
    stack = await startWebStack();
    stack.upstream.script = (body) => {
      const text = lastUserText(body);
      if (text.startsWith('slow:')) {
        return { tokens: SLOW_WORDS, tokenDelayMs: 60 };
      }
      if (text.startsWith('slower:')) {
        return { tokens: SLOW_WORDS, tokenDelayMs: 250 }; // 10 s: time for a second tab to open on a busy machine
      }
      if (text.startsWith('count:')) {
        answers += 1;
        return { tokens: ['Answer', ` number ${answers}`, ` to ${text.slice(6).trim()}`] };
      }
      return undefined;
    };
  }, BROWSER_TIMEOUT_MS);
  beforeEach(async () => {
    context = await stack.browser.newContext({ viewport: { width: 1200, height: 800 } });
    ({ page, problems } = await openPage(context, stack.url));
    await signUp(page, stack.url, newPerson());
  }, BROWSER_TIMEOUT_MS);
  afterEach(async () => {
    expect(problems).toEqual([]);
    await context.close();
  });
  afterAll(async () => {
    await stack?.close();
  });

  async function ask(p: Page, text: string): Promise<void> {
    const box = p.getByRole('textbox', { name: 'Message' });
    await box.fill(text);
    await box.press('Enter');
  }
  const answer = (p: Page) => p.getByRole('article', { name: /replied/ }).last();
  const idle = (p: Page) => p.getByRole('button', { name: 'Send message' }).waitFor({ timeout: 20_000 });
  const markdownText = (p: Page) => answer(p).locator('.markdown').innerText();

  it(
    'should stop an answer mid-way and show it as stopped, also after a reload',
    async () => {
      await ask(page, 'slow: go on');
      await answer(page).getByText('word2', { exact: false }).waitFor();
      await page.getByRole('button', { name: 'Stop generating' }).click();
      await idle(page);
      await answer(page).getByText('stopped', { exact: true }).waitFor();
      const shown = await markdownText(page);
      expect(shown.length).toBeLessThan(SLOW_TEXT.length);
      await page.reload();
      await answer(page).getByText('stopped', { exact: true }).waitFor();
      expect(SLOW_TEXT.startsWith((await markdownText(page)).trim())).toBe(true);
    },
    BROWSER_TIMEOUT_MS,
  );

  it(
    'should regenerate an answer and switch between the two versions',
    async () => {
      await ask(page, 'count: colours');
      await answer(page)
        .getByText(/Answer number \d+ to colours/)
        .waitFor();
      const first = await markdownText(page);
      await answer(page).getByRole('button', { name: 'Regenerate answer' }).click();
      const versions = answer(page).getByRole('group', { name: 'Versions' });
      await versions.getByText('2 / 2').waitFor();
      await idle(page);
      const second = await markdownText(page);
      expect(second).not.toBe(first);
      await versions.getByRole('button', { name: 'Previous version' }).click();
      await answer(page).getByText(first).waitFor();
      await versions.getByText('1 / 2').waitFor();
      // The branch shown is stored: a reload shows the same one.
      await page.reload();
      await answer(page).getByText(first).waitFor();
    },
    BROWSER_TIMEOUT_MS,
  );

  it(
    'should edit a question into a new branch and switch back to the old one',
    async () => {
      await ask(page, 'count: cats');
      await answer(page)
        .getByText(/to cats$/)
        .waitFor();
      const question = page.getByRole('article', { name: 'You said' });
      await question.getByRole('button', { name: 'Edit message' }).click();
      await question.getByRole('textbox', { name: 'Edit message' }).fill('count: dogs');
      await question.getByRole('button', { name: 'Save and send' }).click();
      await answer(page)
        .getByText(/to dogs$/)
        .waitFor();
      await idle(page);
      const versions = question.getByRole('group', { name: 'Versions' });
      await versions.getByText('2 / 2').waitFor();
      await versions.getByRole('button', { name: 'Previous version' }).click();
      await question.getByText('count: cats').waitFor();
      await answer(page)
        .getByText(/to cats$/)
        .waitFor();
      await versions.getByRole('button', { name: 'Next version' }).click();
      await question.getByText('count: dogs').waitFor();
    },
    BROWSER_TIMEOUT_MS,
  );

  it(
    "should keep the chat's settings on the thread: the model, system prompt and temperature reach the upstream",
    async () => {
      await ask(page, 'count: settings');
      await answer(page)
        .getByText(/to settings$/)
        .waitFor();
      await page.getByRole('combobox', { name: 'Model' }).selectOption('gpt-small');
      await page.getByRole('button', { name: 'Chat settings' }).click();
      const dialog = page.getByRole('dialog', { name: 'Chat settings' });
      await dialog.getByRole('textbox', { name: 'System prompt' }).fill('Answer like a pirate.');
      await dialog.getByRole('slider', { name: /Temperature/ }).fill('0.4');
      await dialog.getByRole('spinbutton', { name: 'Longest reply (tokens)' }).fill('321');
      // The dialog closes at once and the thread is saved in the background: reload once the save has answered.
      const saved = page.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().includes('/api/threads/'));
      await dialog.getByRole('button', { name: 'Save' }).click();
      await saved;
      await page.reload();
      await page.getByRole('button', { name: 'Chat settings' }).click();
      await page.getByRole('dialog', { name: 'Chat settings' }).getByText('0.4').waitFor();
      await page.getByRole('dialog', { name: 'Chat settings' }).getByRole('button', { name: 'Cancel' }).click();
      await ask(page, 'count: again');
      await answer(page)
        .getByText(/to again$/)
        .waitFor();
      const body = stack.upstream.chatRequests.filter((r) => lastUserText(r.body) === 'count: again')[0].body;
      expect(body).toMatchObject({ model: 'gpt-small', temperature: 0.4, max_tokens: 321 });
      expect(body.messages?.[0]).toEqual({ role: 'system', content: 'Answer like a pirate.' });
    },
    BROWSER_TIMEOUT_MS,
  );

  it(
    'should continue an answer after a reload mid-stream, without a gap or a repeat',
    async () => {
      await ask(page, 'slow: reload me');
      await answer(page).getByText('word4', { exact: false }).waitFor();
      await page.reload();
      // The text so far is there at once, from its first word, and keeps growing to the end.
      await answer(page).getByText('word0', { exact: false }).waitFor();
      await page.getByRole('button', { name: 'Stop generating' }).waitFor();
      await answer(page).getByText('word39', { exact: false }).waitFor({ timeout: 20_000 });
      await idle(page);
      expect((await markdownText(page)).trim()).toBe(SLOW_TEXT);
    },
    BROWSER_TIMEOUT_MS,
  );

  it(
    'should show a second tab the same stream as it is generated',
    async () => {
      await ask(page, 'slower: two tabs');
      await answer(page).getByText('word3', { exact: false }).waitFor();
      const second = await context.newPage();
      second.on('pageerror', (err) => problems.push(`second tab: ${err.message}`));
      await second.goto(page.url());
      await answer(second).getByText('word0', { exact: false }).waitFor();
      // Mid-answer in the second tab: part of the text, then the rest as it is generated.
      expect(await answer(second).locator('.markdown').innerText()).not.toContain('word39');
      await answer(second).getByText('word39', { exact: false }).waitFor({ timeout: 30_000 });
      await Promise.all([idle(page), idle(second)]);
      expect((await markdownText(second)).trim()).toBe(SLOW_TEXT);
      expect((await markdownText(page)).trim()).toBe(SLOW_TEXT);
    },
    BROWSER_TIMEOUT_MS,
  );
});
