import type { Command } from 'commander';
import { ApiClient } from '../api/api-client';
import { type Credentials, notLoggedIn } from '../api/credentials';
import type { Me, Session } from '../api/resources';
import { ApiError, CliError, EXIT } from '../errors';
import { askLine, askSecret, readStdin } from '../prompt/prompts';
import { type Context, createContext, print, printJson, say } from '../context';
import { inert } from '../output/sanitize';

interface LoginOptions {
  server?: string;
  key?: boolean;
  email?: string;
}

export function registerAuthCommands(program: Command): void {
  program
    .command('login')
    .description('sign in to a confab server: email and password (asked without echo), or an API key with --key')
    .option('--server <url>', 'the server (default: CONFAB_SERVER, the last one used, or http://localhost:3000)')
    .option('--key', 'sign in with a personal API key (cfk_...) instead of a password')
    .option('--email <email>', 'the account email (asked when omitted)')
    .addHelpText(
      'after',
      '\nWithout a terminal, the email (unless --email is given) and the password, or the key, are read from stdin, one a line.',
    )
    .action((options: LoginOptions) => login(createContext(options.server), options));

  program
    .command('logout')
    .description('sign out: ends the session on the server and forgets it here (an API key is only forgotten)')
    .action(() => logout(createContext()));

  program
    .command('whoami')
    .description('the account you are signed in as, on which server, and its token usage')
    .option('--json', 'print the account as JSON')
    .action((options: { json?: boolean }) => whoami(createContext(), options));
}

async function login(ctx: Context, options: LoginOptions): Promise<void> {
  const piped = process.stdin.isTTY ? null : (await readStdin()).split(/\r?\n/);
  const next = async (question: string, secret: boolean): Promise<string> => {
    if (piped) {
      return (piped.shift() ?? '').trim();
    }
    return secret ? askSecret(question) : askLine(question);
  };

  if (options.key) {
    const apiKey = await next('API key: ', true);
    if (!apiKey) {
      throw new CliError('no API key given', EXIT.usage);
    }
    const me = await identify(ctx, { kind: 'key', apiKey }, 'the server refused this API key');
    await endStoredSession(ctx);
    ctx.store.write({ server: ctx.server, email: me.email, apiKey });
    say(`Logged in to ${ctx.server} as ${inert(me.email)} with an API key.`);
    return;
  }

  const email = options.email ?? (await next('Email: ', false));
  const password = await next('Password: ', true);
  if (!email || !password) {
    throw new CliError('an email and a password are needed', EXIT.usage);
  }
  const anonymous = new ApiClient(ctx.server, { kind: 'none' }, ctx.store);
  const session = await anonymous.json<Session>('POST', '/auth/login', { auth: false, body: { email, password } });
  await endStoredSession(ctx);
  ctx.store.write({
    server: ctx.server,
    email: session.user.email,
    refreshToken: session.refreshToken,
    accessToken: session.accessToken,
  });
  say(`Logged in to ${ctx.server} as ${inert(session.user.email)} (${inert(session.user.name)}).`);
}

async function identify(ctx: Context, credentials: Credentials, refused: string): Promise<Me> {
  try {
    return await new ApiClient(ctx.server, credentials, ctx.store).json<Me>('GET', '/auth/me');
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      throw new CliError(refused, EXIT.auth);
    }
    throw err;
  }
}

/** A login replaces the stored one: its session is ended on the server, not left valid for 30 days. */
async function endStoredSession(ctx: Context): Promise<void> {
  const { refreshToken, server } = ctx.stored;
  if (!refreshToken || !server) {
    return;
  }
  try {
    await new ApiClient(server, { kind: 'none' }, ctx.store).json('POST', '/auth/logout', {
      auth: false,
      body: { refreshToken },
    });
  } catch {
    // best effort: the old server may be gone
  }
}

async function logout(ctx: Context): Promise<void> {
  const { stored } = ctx;
  if (!stored.refreshToken && !stored.apiKey) {
    say(process.env.CONFAB_API_KEY ? 'Nothing stored; CONFAB_API_KEY is set in the environment.' : 'Not logged in.');
    return;
  }
  await endStoredSession(ctx);
  ctx.store.write({ server: stored.server });
  say(
    stored.apiKey
      ? 'Logged out. The API key was forgotten here; it stays valid until you revoke it.'
      : `Logged out of ${stored.server ?? ctx.server}.`,
  );
}

async function whoami(ctx: Context, options: { json?: boolean }): Promise<void> {
  if (ctx.client.authKind === 'none') {
    throw notLoggedIn(ctx.server);
  }
  const me = await ctx.client.json<Me>('GET', '/auth/me');
  if (options.json) {
    printJson(me);
    return;
  }
  const how =
    ctx.client.authKind === 'key'
      ? process.env.CONFAB_API_KEY
        ? 'API key (CONFAB_API_KEY)'
        : 'API key'
      : 'password session';
  const lines = [`${inert(me.email)} (${inert(me.name)}, ${me.role})`, `server  ${ctx.server}`, `auth    ${how}`];
  if (me.usage) {
    const sum = (u: { promptTokens: number; completionTokens: number }) => u.promptTokens + u.completionTokens;
    lines.push(`tokens  ${sum(me.usage.today)} today, ${sum(me.usage.total)} in total`);
  }
  print(lines.join('\n'));
}
