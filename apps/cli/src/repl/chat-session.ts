import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiError, CliError } from '../errors';
import { runReply } from '../api/reply-runner';
import type { ReplyRequest } from '../api/reply-stream';
import type { Message, ModelList, Page, Thread } from '../api/resources';
import { type Context, say } from '../context';
import { formatModels, formatThreads, listThreads } from '../commands/threads.command';
import { answerWriter } from '../output/answer-writer';
import { inert } from '../output/sanitize';
import type { InputReader } from './input-reader';
import { HELP, parseSlashCommand, type SlashCommand } from './slash-commands';

const HISTORY_SHOWN = 20;

/**
 * One interactive conversation: the current thread (created with the first question, so that a chat opened and
 * left creates nothing), its settings, and what each input does. All state lives on the server.
 */
export class ChatSession {
  private thread: Thread | null = null;
  /** Settings chosen before the thread exists. */
  private draft: { model?: string; systemPrompt?: string } = {};

  constructor(
    private readonly ctx: Context,
    private readonly reader: InputReader,
    private readonly exit: () => void,
  ) {}

  get threadId(): string | null {
    return this.thread?.id ?? null;
  }

  async open(threadId: string | undefined, draft: { model?: string; systemPrompt?: string }): Promise<void> {
    if (threadId) {
      await this.switchTo(threadId);
    } else {
      this.draft = draft;
      await this.announce();
    }
  }

  /** Handles one input; `false` when the user asked to leave. */
  async handle(input: string): Promise<boolean> {
    const command = parseSlashCommand(input);
    if (!command) {
      await this.reply('send', { content: input.startsWith('//') ? input.slice(1) : input });
      return true;
    }
    try {
      return await this.run(command);
    } catch (err) {
      if (err instanceof CliError) {
        say(this.ctx.note.red(`confab: ${inert(err.message)}`));
        return true;
      }
      throw err;
    }
  }

  private async run(command: SlashCommand): Promise<boolean> {
    switch (command.name) {
      case 'quit':
        return false;
      case 'help':
        say(HELP);
        return true;
      case 'new':
        this.thread = null;
        this.draft = {};
        await this.announce();
        return true;
      case 'threads':
        await this.showThreads();
        return true;
      case 'switch':
        if (!command.arg) {
          throw new CliError('usage: /switch ID (/threads lists them)');
        }
        await this.switchTo(command.arg);
        return true;
      case 'model':
        await this.setModel(command.arg);
        return true;
      case 'models':
        say(formatModels(await this.ctx.client.json<ModelList>('GET', '/models'), this.currentModel()));
        return true;
      case 'system':
        await this.setSystem(command.arg);
        return true;
      case 'regenerate':
        if (!this.thread) {
          throw new CliError('nothing to regenerate yet');
        }
        await this.reply('regenerate', {});
        return true;
      case 'edit':
        await this.edit();
        return true;
      case 'export':
        await this.exportTo(command.arg);
        return true;
      case 'unknown':
        throw new CliError(`unknown command /${command.arg}; /help lists them`);
    }
  }

  private async reply(kind: ReplyRequest['kind'], body: Record<string, unknown>): Promise<void> {
    try {
      const threadId = await this.ensureThread();
      const writer = await answerWriter(process.stdout, this.ctx.rich);
      const outcome = await this.reader.suspend(() =>
        runReply(this.ctx.client, { threadId, kind, body }, writer, this.exit),
      );
      if (outcome.message.status !== 'complete') {
        say(this.ctx.note.dim(`[${outcome.message.status}]`));
      }
      this.reader.armed = outcome.interrupted;
      process.stdout.write('\n');
    } catch (err) {
      if (err instanceof CliError) {
        say(this.ctx.note.red(`confab: ${inert(err.message)}`));
        return;
      }
      throw err;
    }
  }

  private async ensureThread(): Promise<string> {
    if (!this.thread) {
      this.thread = await this.ctx.client.json<Thread>('POST', '/threads', { body: this.draft });
      this.draft = {};
      say(this.ctx.note.dim(`new thread ${this.thread.id} (${inert(this.thread.model)})`));
    }
    return this.thread.id;
  }

  private async switchTo(id: string): Promise<void> {
    const path = `/threads/${encodeURIComponent(id)}`;
    const thread = await this.ctx.client.json<Thread>('GET', path);
    const history = await this.ctx.client.json<{ items: Message[] }>('GET', `${path}/messages`, {
      query: { limit: HISTORY_SHOWN },
    });
    this.thread = thread;
    await this.announce();
    for (const message of history.items) {
      await this.showMessage(message);
    }
  }

  private async showMessage(message: Message): Promise<void> {
    if (message.role === 'user') {
      process.stdout.write(`${this.youLabel()}${inert(message.content).replace(/\n/g, '\n  ')}\n`);
      return;
    }
    const writer = await answerWriter(process.stdout, this.ctx.rich);
    writer.write(message.content);
    writer.end();
    if (message.status !== 'complete') {
      say(this.ctx.note.dim(`[${message.status}]`));
    }
    process.stdout.write('\n');
  }

  private youLabel(): string {
    return this.ctx.rich ? '\x1b[1;36myou ›\x1b[0m ' : 'you> ';
  }

  private async announce(): Promise<void> {
    const { note } = this.ctx;
    const where = this.thread ? `${inert(this.thread.title)} (${this.thread.id})` : 'a new thread';
    say(
      note.dim(`── ${where} · model ${inert(this.currentModel() ?? (await this.defaultModel()))} · /help for commands`),
    );
  }

  private currentModel(): string | null {
    return this.thread?.model ?? this.draft.model ?? null;
  }

  private async defaultModel(): Promise<string> {
    return (await this.ctx.client.json<ModelList>('GET', '/models')).defaultModel;
  }

  private async showThreads(): Promise<void> {
    const page: Page<Thread> = await listThreads(this.ctx, undefined, 10);
    say(page.items.length ? formatThreads(page.items, this.ctx.rich) : 'No threads yet.');
  }

  private async setModel(name: string): Promise<void> {
    if (!name) {
      say(`model: ${this.currentModel() ?? (await this.defaultModel())} (/models lists the others)`);
      return;
    }
    if (this.thread) {
      this.thread = await this.patchThread({ model: name });
    } else {
      const list = await this.ctx.client.json<ModelList>('GET', '/models');
      if (!list.models.some((m) => m.id === name)) {
        throw new CliError(`unknown model ${name}; /models lists them`);
      }
      this.draft.model = name;
    }
    say(this.ctx.note.dim(`model set to ${inert(name)}`));
  }

  private async setSystem(text: string): Promise<void> {
    if (!text) {
      const current = this.thread?.systemPrompt ?? this.draft.systemPrompt ?? '';
      say(current ? `system prompt: ${inert(current)}` : 'no system prompt (/system TEXT sets one)');
      return;
    }
    if (this.thread) {
      this.thread = await this.patchThread({ systemPrompt: text });
    } else {
      this.draft.systemPrompt = text;
    }
    say(this.ctx.note.dim('system prompt set'));
  }

  private async patchThread(change: Partial<Thread>): Promise<Thread> {
    try {
      return await this.ctx.client.json<Thread>('PATCH', `/threads/${this.thread!.id}`, { body: change });
    } catch (err) {
      if (err instanceof ApiError && err.details.some((d) => d.field === 'model')) {
        throw new CliError(`unknown model ${String(change.model)}; /models lists them`);
      }
      throw err;
    }
  }

  /** Re-asks the active branch's last question after editing it in $EDITOR: a sibling branch, the old one kept. */
  private async edit(): Promise<void> {
    if (!this.thread) {
      throw new CliError('nothing to edit yet');
    }
    const branch = await this.ctx.client.json<{ items: Message[] }>('GET', `/threads/${this.thread.id}/messages`, {
      query: { limit: 2 },
    });
    const question = branch.items.filter((m) => m.role === 'user').at(-1);
    if (!question) {
      throw new CliError('no question to edit in this thread');
    }
    const edited = await this.reader.suspend(async () => editText(question.content));
    if (edited === null || edited.trim() === '' || edited.trim() === question.content.trim()) {
      say(this.ctx.note.dim('unchanged: nothing sent'));
      return;
    }
    process.stdout.write(`${this.youLabel()}${inert(edited.trim()).replace(/\n/g, '\n  ')}\n`);
    await this.reply('send', { content: edited.trim(), parentId: question.parentId });
  }

  private async exportTo(file: string): Promise<void> {
    if (!file) {
      throw new CliError('usage: /export FILE (.json for the whole tree, else Markdown)');
    }
    if (!this.thread) {
      throw new CliError('nothing to export yet');
    }
    const format = file.endsWith('.json') ? 'json' : 'markdown';
    const text = await this.ctx.client.text(`/threads/${this.thread.id}/export`, { query: { format } });
    writeFileSync(file, text);
    say(this.ctx.note.dim(`wrote ${file} (${format})`));
  }
}

/** Opens `text` in $VISUAL / $EDITOR (a command line, as git runs it); `null` when the editor failed. */
function editText(text: string): string | null {
  const editor = process.env.VISUAL || process.env.EDITOR || 'vi';
  const dir = mkdtempSync(join(tmpdir(), 'confab-edit-'));
  const file = join(dir, 'question.md');
  try {
    writeFileSync(file, text);
    const result = spawnSync(`${editor} "$CONFAB_EDIT_FILE"`, {
      shell: true,
      stdio: 'inherit',
      env: { ...process.env, CONFAB_EDIT_FILE: file },
    });
    return result.status === 0 ? readFileSync(file, 'utf8') : null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
