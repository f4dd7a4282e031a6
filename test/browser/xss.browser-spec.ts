/// <reference lib="dom" />
import type { Page } from 'playwright-core';
import { lastUserText } from '../support/fake-upstream';
import { BROWSER_TIMEOUT_MS, newPerson, openPage, signUp, type WebStack, startWebStack } from '../support/web-harness';

const PAYLOAD = [
  'Look: <img src=x onerror="window.__xss=(window.__xss||0)+1;alert(1)">',
  '<script>window.__xss=(window.__xss||0)+1</script>',
  '[click me](javascript:window.__xss=(window.__xss||0)+1)',
  '<a href="javascript:window.__xss=1">raw link</a> <svg onload="window.__xss=1"></svg>',
  '<iframe src="javascript:window.parent.__xss=1"></iframe>',
].join('\n\n');

/** The same kind of payload cut mid-tag across stream chunks, as a model could send it. */
const SPLIT_TOKENS = [
  'Here it comes <im',
  'g src=x one',
  'rror="window.__xss=',
  '(window.__xss||0)+1">',
  ' and <scr',
  'ipt>window.__xss=1</sc',
  'ript> and [x](java',
  'script:window.__xss=1) done.',
];

/** Model answers and user messages with script payloads render as inert text, live and after a reload. */
describe('web app: untrusted content', () => {
  let stack: WebStack;

  beforeAll(async () => {
    stack = await startWebStack();
    stack.upstream.script = (body) => {
      const text = lastUserText(body);
      if (text.startsWith('split')) {
        return { tokens: SPLIT_TOKENS, tokenDelayMs: 30 };
      }
      if (text.startsWith('echo payload')) {
        return { tokens: [PAYLOAD] };
      }
      return undefined;
    };
  }, BROWSER_TIMEOUT_MS);
  afterAll(async () => {
    await stack?.close();
  });

  /** Nothing ran, nothing active was rendered: no image, frame, svg or script element, no javascript: link. */
  async function expectInert(page: Page): Promise<void> {
    const state = await page.evaluate(() => {
      const log = document.querySelector('.message-column')!;
      return {
        xss: (window as unknown as { __xss?: number }).__xss ?? null,
        active: log.querySelectorAll('img, iframe, svg:not([aria-hidden]), script, object, embed').length,
        scriptLinks: [...log.querySelectorAll('a')].filter((a) => /^\s*javascript:/i.test(a.getAttribute('href') ?? ''))
          .length,
        handlers: [...log.querySelectorAll('*')].filter((el) => [...el.attributes].some((a) => /^on/i.test(a.name)))
          .length,
      };
    });
    expect(state).toEqual({ xss: null, active: 0, scriptLinks: 0, handlers: 0 });
  }

  it(
    'should show payloads in a user message and a model answer as text, live and after a reload',
    async () => {
      const context = await stack.browser.newContext();
      try {
        const { page, problems } = await openPage(context, stack.url);
        await signUp(page, stack.url, newPerson());
        const box = page.getByRole('textbox', { name: 'Message' });
        await box.fill(`echo payload\n\n${PAYLOAD}`);
        await box.press('Enter');
        const answer = page.getByRole('article', { name: /replied/ });
        await answer.getByText('raw link', { exact: false }).waitFor();
        await page.getByRole('button', { name: 'Send message' }).waitFor();
        // The user's text is shown verbatim; the answer's raw HTML is escaped and the javascript: link is text.
        await page
          .getByRole('article', { name: 'You said' })
          .getByText('<script>window.__xss', { exact: false })
          .waitFor();
        await answer.getByText('<img src=x onerror=', { exact: false }).waitFor();
        await answer.getByText('click me').click();
        await expectInert(page);
        await page.reload();
        await answer.getByText('raw link', { exact: false }).waitFor();
        await expectInert(page);
        expect(problems).toEqual([]);
      } finally {
        await context.close();
      }
    },
    BROWSER_TIMEOUT_MS,
  );

  it(
    'should keep HTML split across stream chunks inert while it streams and once stored',
    async () => {
      const context = await stack.browser.newContext();
      try {
        const { page, problems } = await openPage(context, stack.url);
        // Checked after every animation frame while the answer streams, not only at the end.
        await page.addInitScript(() => {
          const check = () => {
            if (document.querySelector('.message-column img, .message-column script')) {
              (window as unknown as { __rendered?: boolean }).__rendered = true;
            }
            requestAnimationFrame(check);
          };
          requestAnimationFrame(check);
        });
        await signUp(page, stack.url, newPerson());
        const box = page.getByRole('textbox', { name: 'Message' });
        await box.fill('split payload please');
        await box.press('Enter');
        const answer = page.getByRole('article', { name: /replied/ });
        await answer.getByText('done.', { exact: false }).waitFor();
        await page.getByRole('button', { name: 'Send message' }).waitFor();
        await answer.getByText('<img src=x onerror=', { exact: false }).waitFor();
        expect(await page.evaluate(() => (window as unknown as { __rendered?: boolean }).__rendered ?? false)).toBe(
          false,
        );
        await expectInert(page);
        await page.reload();
        await answer.getByText('done.', { exact: false }).waitFor();
        await expectInert(page);
        expect(problems).toEqual([]);
      } finally {
        await context.close();
      }
    },
    BROWSER_TIMEOUT_MS,
  );
});
