import { type Command, InvalidArgumentError, Option } from 'commander';
import type { ModelList, Page, Thread } from '../api/resources';
import { type Context, createContext, print, printJson } from '../context';
import { answerWriter } from '../output/answer-writer';
import { inert } from '../output/sanitize';

export function registerThreadCommands(program: Command): void {
  program
    .command('threads')
    .description('your threads, most recently active first')
    .option('--q <text>', 'only threads whose title or messages match')
    .option('--limit <n>', 'how many (1-100)', positiveInt(100), 20)
    .option('--json', 'print the page as JSON')
    .action((options: { q?: string; limit: number; json?: boolean }) => threads(createContext(), options));

  program
    .command('show')
    .description("a thread's conversation (its active branch; --format json has every branch)")
    .argument('<thread-id>', 'the thread (see `confab threads`)')
    .addOption(new Option('--format <format>', 'output format').choices(['markdown', 'json']).default('markdown'))
    .action((id: string, options: { format: 'markdown' | 'json' }) => show(createContext(), id, options.format));

  program
    .command('models')
    .description('the models the server offers')
    .option('--json', 'print the list as JSON')
    .action((options: { json?: boolean }) => models(createContext(), options));
}

export function positiveInt(max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) {
      throw new InvalidArgumentError(`expected a whole number from 1 to ${max}`);
    }
    return n;
  };
}

export async function listThreads(ctx: Context, q: string | undefined, limit: number): Promise<Page<Thread>> {
  return ctx.client.json<Page<Thread>>('GET', '/threads', { query: { q, limit } });
}

/** One thread a line: a table on a terminal, tab-separated fields (id, updatedAt, model, title) in a pipe. */
export function formatThreads(items: Thread[], rich: boolean): string {
  if (!rich) {
    return items.map((t) => [t.id, t.updatedAt, inert(t.model), inert(t.title)].join('\t')).join('\n');
  }
  const modelWidth = Math.max(5, ...items.map((t) => t.model.length));
  const head = `${'ID'.padEnd(24)}  ${'UPDATED'.padEnd(16)}  ${'MODEL'.padEnd(modelWidth)}  TITLE`;
  const rows = items.map(
    (t) =>
      `${t.id.padEnd(24)}  ${t.updatedAt.slice(0, 16).replace('T', ' ').padEnd(16)}  ${inert(t.model).padEnd(modelWidth)}  ${inert(t.title)}`,
  );
  return [`\x1b[1m${head}\x1b[22m`, ...rows].join('\n');
}

async function threads(ctx: Context, options: { q?: string; limit: number; json?: boolean }): Promise<void> {
  const page = await listThreads(ctx, options.q, options.limit);
  if (options.json) {
    printJson(page);
    return;
  }
  if (page.items.length === 0) {
    process.stderr.write(options.q ? 'No thread matches.\n' : 'No threads yet: start one with `confab chat`.\n');
    return;
  }
  print(formatThreads(page.items, ctx.rich));
}

async function show(ctx: Context, id: string, format: 'markdown' | 'json'): Promise<void> {
  const text = await ctx.client.text(`/threads/${encodeURIComponent(id)}/export`, { query: { format } });
  if (format === 'json') {
    printJson(JSON.parse(text));
    return;
  }
  const writer = await answerWriter(process.stdout, ctx.rich);
  writer.write(text);
  writer.end();
}

async function models(ctx: Context, options: { json?: boolean }): Promise<void> {
  const list = await ctx.client.json<ModelList>('GET', '/models');
  if (options.json) {
    printJson(list);
    return;
  }
  print(formatModels(list, null));
}

export function formatModels(list: ModelList, current: string | null): string {
  return list.models
    .map((m) => {
      const marks = [m.id === list.defaultModel ? 'default' : '', m.id === current ? 'current' : ''].filter(Boolean);
      return `${inert(m.id)}\t${m.contextWindow} tokens${marks.length ? `\t(${marks.join(', ')})` : ''}`;
    })
    .join('\n');
}
