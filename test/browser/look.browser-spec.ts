/// <reference lib="dom" />
import { lastUserText } from '../support/fake-upstream';
import { CODE_ANSWER, tokensOf } from '../support/sample-answers';
import {
  axeViolations,
  BROWSER_TIMEOUT_MS,
  newPerson,
  openPage,
  screenshot,
  signUp,
  type WebStack,
  startWebStack,
} from '../support/web-harness';

/**
 * How the app looks and reads: screenshots for people to look at (test-results/screenshots), no horizontal
 * scroll on a 375 px phone, and no serious or critical axe-core violations on the sign-in, chat and search views.
 */
describe('web app: layout, themes and accessibility', () => {
  let stack: WebStack;

  beforeAll(async () => {
    stack = await startWebStack();
    stack.upstream.script = (body) => {
      const text = lastUserText(body);
      if (String(body.messages?.[0]?.content).startsWith('You name conversations')) {
        return { tokens: ['Debouncing a', ' search box'] }; // the title request
      }
      if (text.includes('debounce')) {
        return { tokens: tokensOf(CODE_ANSWER), tokenDelayMs: 8 };
      }
      return undefined;
    };
  }, BROWSER_TIMEOUT_MS);
  afterAll(async () => {
    await stack?.close();
  });

  const variants = [
    { name: 'desktop-light', viewport: { width: 1280, height: 820 }, colorScheme: 'light' as const },
    { name: 'desktop-dark', viewport: { width: 1280, height: 820 }, colorScheme: 'dark' as const },
    { name: 'phone-light', viewport: { width: 375, height: 740 }, colorScheme: 'light' as const },
    { name: 'phone-dark', viewport: { width: 375, height: 740 }, colorScheme: 'dark' as const },
  ];

  it.each(variants)(
    'should look right and stay accessible: $name',
    async ({ name, viewport, colorScheme }) => {
      const context = await stack.browser.newContext({ viewport, colorScheme, reducedMotion: 'reduce' });
      try {
        const { page, problems } = await openPage(context, stack.url);
        const noHorizontalScroll = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

        await page.getByRole('heading', { name: 'Sign in to confab' }).waitFor();
        await screenshot(page, `${name}-sign-in`);
        expect(await axeViolations(page)).toEqual([]);
        expect(await noHorizontalScroll()).toBe(true);

        await signUp(page, stack.url, newPerson());
        const box = page.getByRole('textbox', { name: 'Message' });
        await box.fill('How do I debounce a search box?');
        await box.press('Enter');
        const answer = page.getByRole('article', { name: /replied/ });
        await answer.getByText('Use it like this').waitFor();
        await screenshot(page, `${name}-chat-mid-stream`);
        await page.getByRole('button', { name: 'Send message' }).waitFor({ timeout: 30_000 });
        await answer.getByText('good delay').waitFor();
        // The generated title replaces "New chat" live, in the header.
        await page.getByRole('heading', { name: 'Debouncing a search box', level: 1 }).waitFor();
        await screenshot(page, `${name}-code-answer`);
        expect(await axeViolations(page)).toEqual([]);
        expect(await noHorizontalScroll()).toBe(true);

        if (viewport.width < 768) {
          await page.getByRole('button', { name: 'Open chats' }).click();
        }
        await page.getByRole('searchbox', { name: 'Search chats' }).fill('debounce');
        await page
          .getByRole('status')
          .filter({ hasText: /1 result/ })
          .waitFor();
        // The result shows why it matched: a snippet of the reply, the searched word marked.
        await page
          .getByRole('list', { name: 'Search results' })
          .locator('mark')
          .filter({ hasText: /^debounce$/i })
          .first()
          .waitFor();
        await screenshot(page, `${name}-search`);
        expect(await axeViolations(page)).toEqual([]);
        expect(await noHorizontalScroll()).toBe(true);
        expect(problems).toEqual([]);
      } finally {
        await context.close();
      }
    },
    BROWSER_TIMEOUT_MS,
  );
});
