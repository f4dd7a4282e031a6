export type SlashCommand =
  | { name: 'quit' | 'help' | 'new' | 'threads' | 'models' | 'regenerate' | 'edit' }
  | { name: 'switch' | 'model' | 'system' | 'export' | 'unknown'; arg: string };

export const HELP = [
  'Type a message and press Enter. End a line with \\ to go on to the next; a paste is sent whole.',
  '',
  '  /new, /clear       start a new thread',
  '  /threads           your recent threads',
  '  /switch ID         continue another thread',
  '  /model [NAME]      show or set the model of this thread',
  '  /models            the models the server offers',
  '  /system [TEXT]     show or set the system prompt',
  '  /regenerate        another answer to the last question (the old one is kept as a branch)',
  '  /edit              re-ask the last question after editing it in $EDITOR (a new branch)',
  '  /export FILE       save this thread (FILE.json: every branch; otherwise Markdown)',
  '  /help              this list',
  '  /quit, /exit       leave (or Ctrl+D)',
  '',
  'Ctrl+C stops the answer being written; a second Ctrl+C, or Ctrl+D, leaves.',
].join('\n');

/** `null` when the input is a message; a leading `//` sends a message that starts with `/`. */
export function parseSlashCommand(input: string): SlashCommand | null {
  const trimmed = input.trim();
  if (!trimmed.startsWith('/') || trimmed.startsWith('//')) {
    return null;
  }
  const match = /^\/(\S+)\s*([\s\S]*)$/.exec(trimmed);
  const word = (match?.[1] ?? '').toLowerCase();
  const arg = (match?.[2] ?? '').trim();
  switch (word) {
    case 'quit':
    case 'exit':
      return { name: 'quit' };
    case 'help':
    case '?':
      return { name: 'help' };
    case 'new':
    case 'clear':
      return { name: 'new' };
    case 'threads':
      return { name: 'threads' };
    case 'models':
      return { name: 'models' };
    case 'regenerate':
    case 'regen':
      return { name: 'regenerate' };
    case 'edit':
      return { name: 'edit' };
    case 'switch':
    case 'model':
    case 'system':
    case 'export':
      return { name: word, arg };
    default:
      return { name: 'unknown', arg: word };
  }
}
