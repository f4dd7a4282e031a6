/// <reference lib="dom" />
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { type FakeUpstream, startFakeUpstream } from './fake-upstream';
import { type RunningServer, startServer, tempDir } from './server-process';
import { TcpProxy } from './tcp-proxy';

export const WEB_DIR = resolve(process.cwd(), 'apps/web/dist');
export const SCREENSHOT_DIR = resolve(process.cwd(), 'test-results/screenshots');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

export interface WebStack {
  server: RunningServer;
  upstream: FakeUpstream;
  browser: Browser;
  /** Where the browser goes: the server, or the proxy in front of it. */
  url: string;
  proxy: TcpProxy | null;
  close: () => Promise<void>;
}

export interface WebStackOptions {
  env?: Record<string, string>;
  /** No provider configured: the server offers only its demo model. */
  demo?: boolean;
  /** Put a TCP proxy between the browser and the server, to cut the network on demand. */
  proxy?: boolean;
}

/** The built server as its own process serving the built web app, its provider the fake upstream; one browser. */
export async function startWebStack(options: WebStackOptions = {}): Promise<WebStack> {
  if (!existsSync(join(WEB_DIR, 'index.html'))) {
    throw new Error(`The web app is not built (${WEB_DIR}): run npm run build`);
  }
  const upstream = await startFakeUpstream();
  const provider: Record<string, string> = options.demo
    ? {}
    : {
        OPENAI_API_KEY: 'sk-test-web-0123456789',
        OPENAI_BASE_URL: upstream.baseUrl,
        OPENAI_MAX_RETRIES: '0',
        MODELS: 'gpt-test:16000,gpt-small:4000',
        DEFAULT_MODEL: 'gpt-test',
      };
  const [server, browser] = await Promise.all([
    startServer({
      DATA_DIR: tempDir('confab-web-'),
      WEB_DIR,
      ...provider,
      SIGNUP_RATE_LIMIT: '10000/h',
      LOGIN_RATE_LIMIT: '1000/15m',
      ...options.env,
    }),
    launchBrowser(),
  ]);
  const proxy = options.proxy ? await new TcpProxy(server.port).start() : null;
  return {
    server,
    upstream,
    browser,
    proxy,
    url: proxy?.url ?? server.url,
    close: async () => {
      await browser.close();
      await proxy?.close();
      await server.stop();
      await upstream.close();
    },
  };
}

export interface TestPerson {
  name: string;
  email: string;
  password: string;
}

let counter = 0;
export function newPerson(): TestPerson {
  counter += 1;
  const id = `${Date.now().toString(36)}${counter}`;
  return { name: `Tester ${counter}`, email: `web-${id}@example.com`, password: `pw-${id}-secret` };
}

/** A page that records what must never happen: a script of an answer running, a console error, a CSP report. */
export async function openPage(context: BrowserContext, url: string): Promise<{ page: Page; problems: string[] }> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  await page.goto(url);
  return { page, problems };
}

/** Signs up through the form, as a person does, and waits for the new-chat page. */
export async function signUp(page: Page, url: string, person: TestPerson): Promise<void> {
  await page.goto(`${url}/signup`);
  await page.getByLabel('Name').fill(person.name);
  await page.getByLabel('Email').fill(person.email);
  await page.getByLabel('Password').fill(person.password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('textbox', { name: 'Message' }).waitFor();
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`) });
}

let axeSource: string | undefined;

/** Serious and critical axe-core violations of the page as it is now. */
export async function axeViolations(page: Page): Promise<string[]> {
  // Evaluated over the DevTools protocol, which the page's CSP does not govern (an injected <script> it would block).
  axeSource ??= readFileSync(resolve(process.cwd(), 'node_modules/axe-core/axe.min.js'), 'utf8');
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<any> } }).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return (r.violations as any[])
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n: any) => n.target.join(' ')).join(', ')}`);
  });
  return result;
}

/** Per-test and per-hook timeout of the browser suites (a loaded 2-core machine starts Chromium slowly). */
export const BROWSER_TIMEOUT_MS = 120_000;
