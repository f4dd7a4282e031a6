/// <reference lib="dom" />
import { BROWSER_TIMEOUT_MS, newPerson, openPage, signUp, type WebStack, startWebStack } from '../support/web-harness';

describe('web app: no provider configured', () => {
  let stack: WebStack;

  beforeAll(async () => {
    stack = await startWebStack({ demo: true });
  }, BROWSER_TIMEOUT_MS);
  afterAll(async () => {
    await stack?.close();
  });

  it(
    'should show a banner about the demo model and still answer with it',
    async () => {
      const context = await stack.browser.newContext();
      try {
        const { page, problems } = await openPage(context, stack.url);
        await signUp(page, stack.url, newPerson());
        await page.getByRole('note').filter({ hasText: 'No model provider is configured' }).waitFor();
        const box = page.getByRole('textbox', { name: 'Message' });
        await box.fill('hello demo');
        await box.press('Enter');
        await page
          .getByRole('article', { name: /replied/ })
          .getByText('demo model', { exact: false })
          .waitFor();
        expect(problems).toEqual([]);
      } finally {
        await context.close();
      }
    },
    BROWSER_TIMEOUT_MS,
  );
});
