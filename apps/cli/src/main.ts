#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { registerAskCommand } from './commands/ask.command';
import { registerAuthCommands } from './commands/auth.command';
import { registerChatCommand } from './commands/chat.command';
import { registerThreadCommands } from './commands/threads.command';
import { CliError, EXIT } from './errors';
import { inert } from './output/sanitize';

// The one CommonJS entry (dist/apps/cli/main.js): the package's version is read beside it.
const { version } = JSON.parse(readFileSync(join(__dirname, '../../../package.json'), 'utf8')) as { version: string };

const program = new Command('confab')
  .description('chat with a confab server from the terminal: the same threads as the web app')
  .version(version, '-v, --version')
  .exitOverride()
  .showHelpAfterError('(run with --help for usage)')
  .addHelpText(
    'after',
    [
      '',
      'Environment:',
      '  CONFAB_SERVER    the server URL (overrides the one stored by `confab login`)',
      '  CONFAB_API_KEY   a personal API key (cfk_...), used instead of the stored credentials',
      '  NO_COLOR         plain text instead of Markdown and colour',
      '  XDG_CONFIG_HOME  where confab/config.json is kept (default ~/.config)',
    ].join('\n'),
  );
registerAuthCommands(program);
registerThreadCommands(program);
registerAskCommand(program);
registerChatCommand(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.exitCode = exitCodeOf(err);
});

function exitCodeOf(err: unknown): number {
  if (err instanceof CommanderError) {
    // commander has printed the message or the help already
    return err.exitCode === 0 ? 0 : EXIT.usage;
  }
  if (err instanceof CliError) {
    process.stderr.write(`confab: ${inert(err.message)}\n`);
    return err.exitCode;
  }
  // Not expected: one line still, never a stack trace (CONFAB_DEBUG=1 shows it).
  process.stderr.write(`confab: unexpected error: ${inert(err instanceof Error ? err.message : String(err))}\n`);
  if (process.env.CONFAB_DEBUG) {
    process.stderr.write(`${String((err as Error).stack)}\n`);
  }
  return EXIT.failure;
}
