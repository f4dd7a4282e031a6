import type { Command } from 'commander';
import { runReply } from '../api/reply-runner';
import type { Thread } from '../api/resources';
import { type Context, createContext, printJson, say } from '../context';
import { CliError, EXIT } from '../errors';
import { answerWriter } from '../output/answer-writer';
import { readStdin } from '../prompt/prompts';

interface AskOptions {
  thread?: string;
  model?: string;
  system?: string;
  json?: boolean;
}

export function registerAskCommand(program: Command): void {
  program
    .command('ask')
    .description('ask one question and print the answer as it streams (a new thread unless --thread)')
    .argument('[question...]', 'the question; stdin, when piped, is added after it')
    .option('--thread <id>', 'continue this thread')
    .option('--model <name>', 'the model (see `confab models`)')
    .option('--system <text>', 'the system prompt (set on the thread)')
    .option('--json', 'print the final message as JSON instead of the text')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  confab ask "What is a monad?"',
        '  git diff | confab ask "review this"',
        '  confab ask --json "Name three primes" | jq -r .content',
        '',
        'Exit status: 0 answered, 1 failed (server, quota, model), 2 bad usage, 4 not signed in, 130 stopped by Ctrl+C.',
      ].join('\n'),
    )
    .action((words: string[], options: AskOptions) => ask(createContext(), words, options));
}

async function ask(ctx: Context, words: string[], options: AskOptions): Promise<void> {
  const question = words.join(' ').trim();
  const piped = (await readStdin()).trim();
  const content = [question, piped].filter(Boolean).join('\n\n');
  if (!content) {
    throw new CliError('no question: give it as an argument or on stdin', EXIT.usage);
  }
  const threadId = await threadFor(ctx, options);
  const writer = options.json ? null : await answerWriter(process.stdout, ctx.rich);
  const body = { content, ...(options.thread && options.model ? { model: options.model } : {}) };
  const { message, interrupted } = await runReply(ctx.client, { threadId, kind: 'send', body }, writer, () =>
    process.exit(EXIT.interrupted),
  );
  if (options.json) {
    printJson(message);
  }
  if (interrupted) {
    say(ctx.note.dim('[stopped]'));
    process.exitCode = EXIT.interrupted;
  } else if (message.status !== 'complete') {
    throw new CliError(`the reply ended ${message.status} (stopped from elsewhere)`);
  }
}

async function threadFor(ctx: Context, options: AskOptions): Promise<string> {
  if (!options.thread) {
    const thread = await ctx.client.json<Thread>('POST', '/threads', {
      body: { model: options.model, systemPrompt: options.system },
    });
    return thread.id;
  }
  const path = `/threads/${encodeURIComponent(options.thread)}`;
  if (options.system !== undefined) {
    await ctx.client.json<Thread>('PATCH', path, { body: { systemPrompt: options.system } });
  } else {
    await ctx.client.json<Thread>('GET', path);
  }
  return options.thread;
}
