import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_JS, type CliServer, startCliServer } from '../support/cli-process';
import { lastUserText } from '../support/fake-upstream';
import { tempDir } from '../support/server-process';
import { TmuxTerminal, tmuxAvailable } from '../support/tmux-terminal';

const SLOW = 90_000;

/** `confab login` and `confab chat` in a real pseudo-terminal (tmux), against a started server. */
describe('confab chat (interactive, in a terminal)', () => {
  let app: CliServer;
  let terminal: TmuxTerminal | null = null;

  beforeAll(async () => {
    if (!tmuxAvailable()) {
      throw new Error('tmux is not installed (apt-get install -y tmux); the interactive client suite needs it');
    }
    app = await startCliServer();
  }, 60_000);

  afterAll(async () => {
    await terminal?.close();
    await app?.close();
  });

  async function api(path: string, token: string) {
    const res = await app.request('GET', path, { token });
    expect(res.status).toBe(200);
    return res.body;
  }

  it(
    'should sign in without echo, stream, stop on Ctrl+C, and switch, regenerate, change model and clear',
    async () => {
      const account = await app.signUp();
      const { accessToken: token } = account;
      app.upstream.script = (body) => {
        const text = lastUserText(body);
        if (text === 'tell me a long story') {
          const rest = Array.from({ length: 200 }, (_, i) => ` word${i}`);
          return { tokens: ['Once upon a time.', '\n\n', 'It went on', ...rest], tokenDelayMs: 50 };
        }
        if (text === 'hostile') {
          return { tokens: ['\x1b]2;pwned\x07', 'Safe ', '\x1b[2J', 'text.'] };
        }
        return undefined;
      };
      const home = tempDir('confab-tty-');
      const cli = `node ${CLI_JS}`;
      terminal = await TmuxTerminal.start(
        // The shell survives the Ctrl+C meant for the client (`trap`: a handler is reset for its children).
        `sh -c 'trap : INT; ${cli} login --server ${app.url} && ${cli} chat; echo "[exited $?]"; sleep 60'`,
        { PATH: process.env.PATH ?? '', HOME: home, XDG_CONFIG_HOME: home, EDITOR: 'sed -i s/back/forth/' },
      );

      // Login: the password is typed into a terminal that does not echo it.
      await terminal.waitFor('Email:');
      await terminal.type(account.email, 'Enter');
      await terminal.waitFor('Password:');
      await terminal.type(account.password, 'Enter');
      let screen = await terminal.waitFor('a new thread');
      expect(screen).toContain(`Logged in to ${app.url} as ${account.email}`);
      expect(screen).not.toContain(account.password);

      // A streamed answer: its first paragraph is on screen while the rest is still being generated; Ctrl+C stops it.
      let mark = screen.length;
      await terminal.type('tell me a long story', 'Enter');
      await terminal.waitFor('Once upon a time.', mark);
      const [story] = app.upstream.chatRequests;
      expect(story.state).toBe('pending');
      await terminal.keys('C-c');
      screen = await terminal.waitFor('[stopped]', mark);
      await app.upstream.clientClosed(story);
      const [thread] = (await api('/threads', token)).items;
      let messages = (await api(`/threads/${thread.id}/messages`, token)).items;
      expect(messages.map((m: any) => [m.role, m.status])).toEqual([
        ['user', 'complete'],
        ['assistant', 'stopped'],
      ]);
      // Stored with its partial text: the first paragraph at least (how much more arrived before the stop is a race).
      expect(messages[1].content).toMatch(/^Once upon a time\./);

      // /model changes the thread's model; the next answer comes from it.
      mark = screen.length;
      await terminal.type('/model gpt-other', 'Enter');
      screen = await terminal.waitFor('model set to gpt-other', mark);
      expect((await api(`/threads/${thread.id}`, token)).model).toBe('gpt-other');
      mark = screen.length;
      await terminal.type('first question', 'Enter');
      screen = await terminal.waitFor('You said: first question', mark);
      expect(app.upstream.chatRequests.find((r) => lastUserText(r.body) === 'first question')?.body.model).toBe(
        'gpt-other',
      );

      // /regenerate: another answer to the same question, made the active branch, the old one kept.
      app.upstream.enqueue({ tokens: ['A ', 'second ', 'answer.'] });
      mark = screen.length;
      await terminal.type('/regenerate', 'Enter');
      screen = await terminal.waitFor('A second answer.', mark);
      const tree = (await api(`/threads/${thread.id}/messages?branch=all`, token)).items;
      const question = tree.find((m: any) => m.content === 'first question');
      const answers = tree.filter((m: any) => m.parentId === question.id).map((m: any) => m.content);
      expect(answers).toEqual(['You said: first question', 'A second answer.']);

      // Multi-line input: a trailing backslash goes on, a paste is one message.
      mark = screen.length;
      await terminal.type('line one\\', 'Enter');
      await terminal.type('line two', 'Enter');
      screen = await terminal.waitFor('You said: line one line two', mark);
      mark = screen.length;
      await terminal.paste('pasted one\npasted two\n');
      await terminal.keys('Enter');
      screen = await terminal.waitFor('You said: pasted one pasted two', mark);
      const contents = (await api(`/threads/${thread.id}/messages`, token)).items.map((m: any) => m.content);
      expect(contents).toEqual(expect.arrayContaining(['line one\nline two', 'pasted one\npasted two']));

      // Escape sequences from the model reach the terminal inert: the window title stays.
      const titleBefore = await terminal.title();
      mark = screen.length;
      await terminal.type('hostile', 'Enter');
      screen = await terminal.waitFor('Safe text.', mark);
      expect(await terminal.title()).toBe(titleBefore);

      // /clear starts a new thread; /switch goes back to the first one, showing its history.
      mark = screen.length;
      await terminal.type('/clear', 'Enter');
      await terminal.waitFor('a new thread', mark);
      await terminal.type('in another thread', 'Enter');
      screen = await terminal.waitFor('You said: in another thread', mark);
      const threads = (await api('/threads', token)).items;
      expect(threads).toHaveLength(2);
      mark = screen.length;
      await terminal.type(`/switch ${thread.id}`, 'Enter');
      await terminal.waitFor('A second answer.', mark);
      await terminal.type('back again', 'Enter');
      screen = await terminal.waitFor('You said: back again', mark);
      messages = (await api(`/threads/${thread.id}/messages`, token)).items;
      expect(messages.at(-1)).toMatchObject({ role: 'assistant', content: 'You said: back again', status: 'complete' });

      // /edit re-asks the last question from $EDITOR as a sibling branch; /system and /export reach the thread.
      mark = screen.length;
      await terminal.type('/edit', 'Enter');
      screen = await terminal.waitFor('You said: forth again', mark);
      const edited = (await api(`/threads/${thread.id}/messages?branch=all`, token)).items;
      const [back, forth] = ['back again', 'forth again'].map((c) => edited.find((m: any) => m.content === c));
      expect(forth.parentId).toBe(back.parentId);
      mark = screen.length;
      await terminal.type('/system Answer in French.', 'Enter');
      await terminal.waitFor('system prompt set', mark);
      expect((await api(`/threads/${thread.id}`, token)).systemPrompt).toBe('Answer in French.');
      const exported = join(home, 'thread.md');
      await terminal.type(`/export ${exported}`, 'Enter');
      screen = await terminal.waitFor(`wrote ${exported}`, mark);
      expect(readFileSync(exported, 'utf8')).toContain('forth again');

      // Ctrl+D on an empty line leaves, with status 0.
      mark = screen.length;
      await terminal.keys('C-d');
      screen = await terminal.waitFor('[exited 0]', mark);
      process.stdout.write(`\n--- the terminal at the end ---\n${screen}\n`);
    },
    SLOW,
  );
});
