import { createInterface } from 'node:readline/promises';
import { CliError, EXIT } from '../errors';

/** A line typed by the user, echoed (the prompt goes to stderr: stdout stays for data). */
export async function askLine(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY });
  const aborted = new AbortController();
  rl.once('SIGINT', () => aborted.abort());
  try {
    return (await rl.question(question, { signal: aborted.signal })).trim();
  } catch {
    process.stderr.write('\n');
    throw new CliError('cancelled', EXIT.interrupted);
  } finally {
    rl.close();
  }
}

/**
 * A secret typed without echo: the terminal in raw mode, characters collected by hand (backspace works, Ctrl+C
 * cancels, Ctrl+D or Enter ends). Nothing of it is ever written anywhere.
 */
export function askSecret(question: string): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY) {
    throw new CliError('no terminal to ask for a secret on', EXIT.usage);
  }
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let secret = '';
    const finish = (error?: CliError) => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write('\n');
      if (error) {
        reject(error);
      } else {
        resolve(secret);
      }
    };
    const onData = (chunk: Buffer) => {
      // Bracketed-paste markers, if the terminal sends them, are not part of the secret.
      // eslint-disable-next-line no-control-regex
      for (const char of chunk.toString('utf8').replace(/\x1b\[20[01]~/g, '')) {
        if (char === '\r' || char === '\n' || char === '\x04') {
          finish();
          return;
        }
        if (char === '\x03') {
          finish(new CliError('cancelled', EXIT.interrupted));
          return;
        }
        if (char === '\x7f' || char === '\b') {
          secret = [...secret].slice(0, -1).join('');
        } else if (char >= ' ') {
          secret += char;
        }
      }
    };
    input.setRawMode(true);
    input.resume();
    input.on('data', onData);
  });
}

/** All of stdin, when it is not a terminal (`git diff | confab ask ...`); '' for a terminal. */
export async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    return '';
  }
  const parts: Buffer[] = [];
  for await (const chunk of process.stdin) {
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts).toString('utf8');
}
