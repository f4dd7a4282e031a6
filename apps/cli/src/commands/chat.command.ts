import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { createContext, say } from '../context';
import { notLoggedIn } from '../api/credentials';
import { EXIT } from '../errors';
import { InputReader } from '../repl/input-reader';
import { ChatSession } from '../repl/chat-session';

interface ChatOptions {
  model?: string;
  system?: string;
}

export function registerChatCommand(program: Command): void {
  program
    .command('chat')
    .description('an interactive conversation, streamed; a new thread unless THREAD_ID is given')
    .argument('[thread-id]', 'continue this thread (its recent history is shown)')
    .option('--model <name>', 'the model of a new thread')
    .option('--system <text>', 'the system prompt of a new thread')
    .addHelpText(
      'after',
      '\nInside, /help lists the commands. Ctrl+C stops an answer; a second Ctrl+C, or Ctrl+D, leaves.',
    )
    .action((threadId: string | undefined, options: ChatOptions) => chat(threadId, options));
}

async function chat(threadId: string | undefined, options: ChatOptions): Promise<void> {
  const ctx = createContext();
  if (ctx.client.authKind === 'none') {
    throw notLoggedIn(ctx.server);
  }
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal: process.stdin.isTTY === true && process.stdout.isTTY === true,
    historySize: 200,
  });
  const prompts = ctx.rich
    ? { main: '\x1b[1;36myou ›\x1b[0m ', more: '\x1b[2m   … \x1b[0m' }
    : { main: 'you> ', more: '...> ' };
  const reader = new InputReader(rl, process.stdin, prompts, () =>
    say(ctx.note.dim('(Ctrl+C again or Ctrl+D to leave)')),
  );
  const leave = (code: number) => {
    reader.close();
    process.exit(code);
  };
  const session = new ChatSession(ctx, reader, () => leave(EXIT.interrupted));
  try {
    await session.open(threadId, { model: options.model, systemPrompt: options.system });
    for (let input = await reader.next(); input !== null; input = await reader.next()) {
      if (!(await session.handle(input))) {
        break;
      }
    }
  } finally {
    reader.close();
  }
  if (session.threadId) {
    say(ctx.note.dim(`thread ${session.threadId} · continue with: confab chat ${session.threadId}`));
  }
}
