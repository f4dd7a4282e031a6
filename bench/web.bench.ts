/// <reference lib="dom" />
/**
 * `npm run bench:web`: the web app's figures (issue 10), in Debian's Chromium (playwright-core) against the built
 * server and app on loopback, the model being the fake OpenAI-compatible upstream.
 *
 *  1. first-load JavaScript, gzip (what the server sends);
 *  2. navigation -> interactive chat: from `goto` of a thread's URL to its messages shown and the message box
 *     ready, cold (new browser context, empty cache) and warm (reload);
 *  3. main-thread time per streamed delta for a ~20 kB Markdown answer with code (Chromium's TaskDuration over the
 *     stream divided by the `message:delta` frames received), and the long tasks (> 50 ms) meanwhile.
 *
 * BENCH_QUICK=1 runs a reduced version.
 */
import type { CDPSession, Page } from 'playwright-core';
import { FIRST_LOAD_BUDGET_BYTES, firstLoadOf } from '../apps/web/build/first-load';
import { longAnswer, tokensOf } from '../test/support/sample-answers';
import { startWebStack, WEB_DIR } from '../test/support/web-harness';
import { runBenchmark } from './support/processes';
import { log, ms, printTable, type Row, summarize } from './support/stats';

const QUICK = process.env.BENCH_QUICK === '1';
const RUNS = QUICK ? 3 : 10;
const ANSWER = longAnswer(20);
const TOKENS = tokensOf(ANSWER, 4);

interface Account {
  accessToken: string;
  refreshToken: string;
  user: unknown;
}

async function json<T>(res: Response): Promise<T> {
  if (!res.ok) {
    throw new Error(`${res.status} ${await res.text()}`);
  }
  return (await res.json()) as T;
}

/** Time from navigation start to the thread's messages on screen and the message box ready, measured in the page. */
async function interactiveAt(page: Page, url: string, messages: number): Promise<number> {
  await page.goto(url, { waitUntil: 'commit' });
  const handle = await page.waitForFunction(
    (n) => {
      const box = document.querySelector('textarea');
      const shown = document.querySelectorAll('article.message').length;
      return box && !box.disabled && shown >= n ? performance.now() : false;
    },
    messages,
    { polling: 'raf', timeout: 30_000 },
  );
  return (await handle.jsonValue()) as number;
}

type Metrics = Record<'TaskDuration' | 'ScriptDuration' | 'LayoutDuration' | 'RecalcStyleDuration', number>;

/** Chromium's cumulative main-thread times, seconds. */
async function mainThread(cdp: CDPSession): Promise<Metrics> {
  const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] };
  const of = (name: string) => metrics.find((m) => m.name === name)?.value ?? Number.NaN;
  return {
    TaskDuration: of('TaskDuration'),
    ScriptDuration: of('ScriptDuration'),
    LayoutDuration: of('LayoutDuration'),
    RecalcStyleDuration: of('RecalcStyleDuration'),
  };
}

runBenchmark('bench:web', async (cleanups) => {
  const rows: Row[] = [];
  const firstLoad = firstLoadOf(WEB_DIR);
  rows.push({
    figure: 'first-load JS (gzip)',
    value: `${(firstLoad.gzipBytes / 1024).toFixed(1)} kB (${firstLoad.files.length} file(s), ${(firstLoad.bytes / 1024).toFixed(0)} kB raw)`,
    goal: `<= ${FIRST_LOAD_BUDGET_BYTES / 1024} kB`,
    pass: firstLoad.gzipBytes <= FIRST_LOAD_BUDGET_BYTES,
  });

  log('starting server, fake upstream and Chromium');
  const stack = await startWebStack();
  cleanups.push(() => stack.close());
  stack.upstream.script = (body) => {
    const last = body.messages?.[body.messages.length - 1];
    return typeof last?.content === 'string' && last.content.startsWith('long answer')
      ? { tokens: TOKENS, tokenDelayMs: 2 }
      : undefined;
  };
  const api = (path: string, init: { method?: string; body?: unknown; token?: string } = {}) =>
    fetch(`${stack.url}/api${path}`, {
      method: init.method ?? 'GET',
      headers: {
        'content-type': 'application/json',
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  const account = await json<Account>(
    await api('/auth/signup', {
      method: 'POST',
      body: { email: 'bench@example.com', password: 'bench-password-1', name: 'Bench' },
    }),
  );
  const thread = await json<{ id: string }>(
    await api('/threads', { method: 'POST', token: account.accessToken, body: { title: 'Bench thread' } }),
  );
  for (let i = 0; i < 5; i++) {
    await json(
      await api(`/threads/${thread.id}/messages`, {
        method: 'POST',
        token: account.accessToken,
        body: { content: `Question ${i}: explain **markdown** item ${i}` },
      }),
    );
  }
  const url = `${stack.url}/t/${thread.id}`;
  const session = JSON.stringify(account);
  const newContext = async () => {
    const context = await stack.browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addInitScript((s) => {
      if (!localStorage.getItem('confab.session')) {
        localStorage.setItem('confab.session', s);
      }
    }, session);
    return context;
  };

  log(`navigation -> interactive chat, ${RUNS} cold and ${RUNS} warm loads`);
  const cold: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const context = await newContext();
    const page = await context.newPage();
    cold.push(await interactiveAt(page, url, 10));
    warm.push(await interactiveAt(page, url, 10));
    await context.close();
  }
  const c = summarize(cold);
  const w = summarize(warm);
  rows.push({ figure: 'navigation -> interactive chat, cold', value: `p50 ${ms(c.p50)}, max ${ms(c.max)}` });
  rows.push({ figure: 'navigation -> interactive chat, warm', value: `p50 ${ms(w.p50)}, max ${ms(w.max)}` });

  log(`streaming a ${(ANSWER.length / 1024).toFixed(1)} kB Markdown answer in ${TOKENS.length} tokens`);
  const context = await newContext();
  cleanups.push(() => context.close());
  await context.addInitScript(() => {
    const w = window as unknown as { __long: number[] };
    w.__long = [];
    new PerformanceObserver((list) => list.getEntries().forEach((e) => w.__long.push(e.duration))).observe({
      type: 'longtask',
      buffered: true,
    });
  });
  const page = await context.newPage();
  await interactiveAt(page, url, 10);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  await cdp.send('Network.enable');
  let deltas = 0;
  cdp.on('Network.webSocketFrameReceived', (e: { response: { payloadData: string } }) => {
    if (e.response.payloadData.includes('"message:delta"')) {
      deltas += 1;
    }
  });
  await page.evaluate(() => ((window as unknown as { __long: number[] }).__long = []));
  const before = await mainThread(cdp);
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill('long answer please');
  await box.press('Enter');
  await page.getByRole('button', { name: 'Stop generating' }).waitFor();
  await page.getByRole('button', { name: 'Send message' }).waitFor({ timeout: 120_000 });
  const after = await mainThread(cdp);
  const longTasks = await page.evaluate(() => (window as unknown as { __long: number[] }).__long);
  const rendered = await page
    .getByRole('article', { name: /replied/ })
    .last()
    .locator('.code-block')
    .count();
  const spent = (key: keyof Metrics) => (after[key] - before[key]) * 1000;
  const perDelta = spent('TaskDuration') / Math.max(1, deltas);
  rows.push({
    figure: 'main-thread time per streamed delta',
    value: `${ms(perDelta)} (${ms(spent('TaskDuration'))} over ${deltas} deltas, ${rendered} code blocks)`,
    goal: '< 2 ms',
    pass: perDelta < 2,
  });
  rows.push({
    figure: '  of which script / layout / style',
    value: [spent('ScriptDuration'), spent('LayoutDuration'), spent('RecalcStyleDuration')]
      .map((v) => ms(v / Math.max(1, deltas)))
      .join(' / '),
  });
  const longest = longTasks.length ? Math.max(...longTasks) : 0;
  rows.push({
    figure: 'long tasks while streaming',
    value: `${longTasks.length} over 50 ms, longest ${ms(longest)}`,
    goal: 'none > 50 ms',
    pass: longTasks.length === 0,
  });
  printTable('web app (Chromium, loopback)', rows);
});
