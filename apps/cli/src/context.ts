import { ApiClient } from './api/api-client';
import { resolveCredentials, resolveServer } from './api/credentials';
import { ConfigStore, type StoredConfig } from './config/config-store';
import { isRich, type Styles, styles } from './output/terminal-style';

/** What every command works with: the config file, the server, an authenticated client, and the terminal. */
export interface Context {
  store: ConfigStore;
  stored: StoredConfig;
  server: string;
  client: ApiClient;
  /** stdout gets Markdown and colour (a terminal, NO_COLOR unset). */
  rich: boolean;
  /** Styles for notes on stderr. */
  note: Styles;
}

export function createContext(serverFlag?: string): Context {
  const store = new ConfigStore();
  const stored = store.read();
  const server = resolveServer(stored, serverFlag);
  const client = new ApiClient(server, resolveCredentials(stored, server), store);
  return { store, stored, server, client, rich: isRich(process.stdout), note: styles(isRich(process.stderr)) };
}

/** Data goes to stdout. */
export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Messages (progress, confirmations, hints) go to stderr, so that stdout stays clean for pipes. */
export function say(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** JSON for scripts; C1 control characters escaped too (JSON.stringify leaves them raw, a terminal may act on them). */
export function printJson(value: unknown): void {
  const text = JSON.stringify(value, null, 2).replace(
    /[\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  print(text);
}
