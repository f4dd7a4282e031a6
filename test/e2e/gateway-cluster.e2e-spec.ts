import { existsSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { httpClient } from '../support/app-harness';
import { type FakeReply, type FakeUpstream, lastUserText, startFakeUpstream } from '../support/fake-upstream';
import { RedisProcess, redisServerAvailable } from '../support/redis-process';
import { MAIN_JS, type RunningServer, startServer, tempDir } from '../support/server-process';
import { connect, replyOf, type TestSocket } from '../support/socket-client';
import { accountsOf, type TestAccount } from './auth.fixtures';

const IN_CI = process.env.CI === 'true';
const REDIS_AVAILABLE = redisServerAvailable();

/** One server process of the cluster, with its HTTP client. */
interface Instance {
  name: string;
  server: RunningServer;
  request: ReturnType<typeof httpClient>;
}

if (!REDIS_AVAILABLE && !IN_CI) {
  console.warn(
    'SKIPPED: the multi-instance ChatGateway suite needs redis-server (apt-get install -y redis-server); CI fails without it.',
  );
  describe('ChatGateway across instances', () => {
    it('should only be skipped outside CI', () => {
      expect(process.env.CI).not.toBe('true');
    });
  });
} else {
  describe('ChatGateway across instances', () => {
    let redis: RedisProcess;
    let upstream: FakeUpstream;
    let a: Instance;
    let b: Instance;
    let admin: TestAccount;
    let env: Record<string, string>;
    const sockets: TestSocket[] = [];
    const replies = new Map<string, FakeReply>();

    beforeAll(async () => {
      if (!REDIS_AVAILABLE) {
        throw new Error(
          'redis-server is not installed (apt-get install -y redis-server), and with CI=true the multi-instance suite must run',
        );
      }
      if (!existsSync(MAIN_JS)) {
        throw new Error(`the built server is missing (${MAIN_JS}): run "npm run build" before this suite`);
      }
      [redis, upstream] = await Promise.all([RedisProcess.start(), startFakeUpstream()]);
      upstream.script = (body) => {
        const text = lastUserText(body);
        return [...replies].find(([key]) => text.includes(key))?.[1];
      };
      env = {
        REDIS_URL: redis.url,
        DATA_DIR: tempDir('confab-cluster-'),
        OPENAI_API_KEY: 'sk-test-secret-key-0123456789',
        OPENAI_BASE_URL: upstream.baseUrl,
        OPENAI_MAX_RETRIES: '0',
        MODELS: 'gpt-test:16000',
        DEFAULT_MODEL: 'gpt-test',
        SIGNUP_RATE_LIMIT: '1000/h',
        LOGIN_RATE_LIMIT: '1000/15m',
        BCRYPT_COST: '4',
        // A stalled reply is stopped one second after SIGTERM (the drain), not after the default 25 s.
        SHUTDOWN_GRACE: '1s',
      };
      const started = await Promise.allSettled([startInstance('A'), startInstance('B')]);
      const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) {
        // Leave no process behind when only one of them came up.
        await Promise.all(started.map((r) => r.status === 'fulfilled' && r.value.server.stop('SIGKILL')));
        throw failed.reason;
      }
      [a, b] = started.map((r) => (r as PromiseFulfilledResult<Instance>).value);
      admin = await accountsOf(a.request).signUp({ name: 'Root' });
      expect(admin.role).toBe('admin');
    }, 60_000);

    afterEach(() => {
      sockets.splice(0).forEach((s) => s.close());
    });

    afterAll(async () => {
      sockets.splice(0).forEach((s) => s.close());
      const exits = await Promise.all([a && stopWithin(a.server), b && stopWithin(b.server)]);
      await Promise.all([redis?.kill(), upstream?.close()]);
      if (env) {
        rmSync(env.DATA_DIR, { recursive: true, force: true });
      }
      // A clean shutdown (the drain, then exit code 0): no hang, no crash, no unhandled rejection.
      for (const [i, exit] of exits.entries()) {
        const instance = [a, b][i];
        if (instance) {
          expect({ name: instance.name, exit }).toEqual({
            name: instance.name,
            exit: { code: 0, signal: null },
          });
          expect(instance.server.output()).not.toMatch(/unhandled|uncaught/i);
        }
      }
    }, 30_000);

    /** SIGTERM, and SIGKILL if the process has not exited within `ms` (reported as `hung`), so no process outlives the suite. */
    async function stopWithin(server: RunningServer, ms = 10_000) {
      let timer: NodeJS.Timeout | undefined;
      const hung = new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), ms)));
      const exit = await Promise.race([server.stop('SIGTERM'), hung]);
      clearTimeout(timer);
      if (exit === 'hung') {
        await server.stop('SIGKILL');
      }
      return exit;
    }

    function script(reply: FakeReply): string {
      const key = `k-${randomUUID()}`;
      replies.set(key, reply);
      return key;
    }

    async function open(instance: Instance, account: { accessToken: string }): Promise<TestSocket> {
      const socket = await connect(instance.server.url, account.accessToken);
      sockets.push(socket);
      return socket;
    }

    async function newThread(account: TestAccount, title = 'Cluster test'): Promise<{ id: string }> {
      const res = await a.request('POST', '/threads', { token: account.accessToken, body: { title } });
      expect(res.status).toBe(201);
      return res.body;
    }

    async function joined(socket: TestSocket, threadId: string) {
      const ack = await socket.emitAck('thread:join', { threadId });
      expect(ack).toMatchObject({ ok: true, thread: { id: threadId } });
      return ack;
    }

    const signUp = () => accountsOf(b.request).signUp();
    const seqs = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
    const health = async (instance: Instance) => (await instance.request('GET', '/health')).body.redis as string;

    async function startInstance(name: string): Promise<Instance> {
      const server = await startServer(env);
      return { name, server, request: httpClient(server.url) };
    }

    /** Polls the instances' health (bounded) until each reports Redis as `state`. */
    async function healthBecomes(state: 'ok' | 'error', instances = [a, b]): Promise<void> {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const states = await Promise.all(instances.map(health));
        if (states.every((s) => s === state)) {
          return;
        }
        if (Date.now() > deadline) {
          throw new Error(`health still reports redis ${states.join('/')} instead of ${state}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    /**
     * Cross-instance delivery resumes once the listening instance has resubscribed, which health does not show:
     * rename the thread through `via` until the socket hears it (bounded).
     */
    async function renameUntilHeard(via: Instance, owner: TestAccount, threadId: string, socket: TestSocket) {
      const deadline = Date.now() + 15_000;
      for (let i = 0; ; i++) {
        const title = `Back ${i}`;
        await via.request('PATCH', `/threads/${threadId}`, { token: owner.accessToken, body: { title } });
        try {
          await socket.next('thread:updated', (p) => p.thread.title === title, 300);
          return;
        } catch (err) {
          if (Date.now() > deadline) {
            throw err;
          }
        }
      }
    }

    /** Checks one whole reply as a socket saw it: every delta from seq 1, in order, adding up to the final text. */
    async function expectWholeReply(socket: TestSocket, messageId: string, content: string, timeoutMs?: number) {
      const { deltas, done } = await replyOf(socket, messageId, timeoutMs);
      expect(deltas.map((d) => d.seq)).toEqual(seqs(1, deltas.length));
      expect(deltas.map((d) => d.delta).join('')).toBe(content);
      expect(done.message).toMatchObject({ id: messageId, status: 'complete', content });
    }

    it('should report redis "ok" on both instances', async () => {
      expect(await Promise.all([a, b].map((i) => i.request('GET', '/health')))).toEqual([
        expect.objectContaining({
          status: 200,
          body: expect.objectContaining({ status: 'ok', database: 'sqlite', redis: 'ok' }),
        }),
        expect.objectContaining({
          status: 200,
          body: expect.objectContaining({ status: 'ok', database: 'sqlite', redis: 'ok' }),
        }),
      ]);
    });

    it('should fan out every event to every tab on both instances', async () => {
      const owner = await signUp();
      const thread = await newThread(owner);
      const tabs = await Promise.all([open(a, owner), open(a, owner), open(b, owner), open(b, owner)]);
      await Promise.all(tabs.map((t) => joined(t, thread.id)));

      // A reply generated on B, asked for from B.
      const tokens = ['One', ' reply', ',', ' four', ' tabs', '.'];
      const ack = await tabs[2].emitAck('message:send', {
        threadId: thread.id,
        content: script({ tokens, tokenDelayMs: 5 }),
      });
      expect(ack).toMatchObject({ ok: true, assistantMessageId: expect.any(String) });
      for (const tab of tabs) {
        await expectWholeReply(tab, ack.assistantMessageId, tokens.join(''));
        expect(tab.all('message:created').map((p) => [p.message.id, p.message.role])).toEqual([
          [ack.userMessage.id, 'user'],
          [ack.assistantMessageId, 'assistant'],
        ]);
      }

      // A reply generated on A.
      const second = await tabs[0].emitAck('message:send', {
        threadId: thread.id,
        content: script({ tokens: ['Again'] }),
      });
      for (const tab of tabs) {
        await expectWholeReply(tab, second.assistantMessageId, 'Again');
      }

      // Renamed through A, deleted through B.
      const renamed = await a.request('PATCH', `/threads/${thread.id}`, {
        token: owner.accessToken,
        body: { title: 'Renamed everywhere' },
      });
      expect(renamed.status).toBe(200);
      for (const tab of tabs) {
        expect(await tab.next('thread:updated')).toEqual({ thread: renamed.body });
      }
      expect((await b.request('DELETE', `/threads/${thread.id}`, { token: owner.accessToken })).status).toBe(204);
      for (const tab of tabs) {
        expect(await tab.next('thread:deleted')).toEqual({ threadId: thread.id });
      }
    });

    it('should stop a generation running on A from B, over HTTP and over the socket', async () => {
      const owner = await signUp();
      for (const via of ['http', 'socket'] as const) {
        const thread = await newThread(owner);
        const [onA, onB] = await Promise.all([open(a, owner), open(b, owner)]);
        await Promise.all([joined(onA, thread.id), joined(onB, thread.id)]);
        const key = script({ tokens: ['halfway', ' there', ' and', ' on'], stallAfter: 1 });
        const request = upstream.nextRequest((r) => lastUserText(r.body).includes(key));
        const ack = await onA.emitAck('message:send', { threadId: thread.id, content: `Stop me ${key}` });
        await onB.next('message:delta', (p) => p.messageId === ack.assistantMessageId);

        if (via === 'http') {
          const res = await b.request('POST', `/threads/${thread.id}/stop`, { token: owner.accessToken });
          expect(res.status).toBe(202);
        } else {
          expect(await onB.emitAck('generation:stop', { threadId: thread.id })).toEqual({ ok: true });
        }
        await upstream.clientClosed(await request);
        for (const tab of [onA, onB]) {
          const { done } = await replyOf(tab, ack.assistantMessageId);
          expect({ via, message: done.message }).toMatchObject({
            via,
            message: { status: 'stopped', content: 'halfway' },
          });
        }
        const stored = await b.request('GET', `/threads/${thread.id}/messages`, { token: owner.accessToken });
        expect(stored.body.items[1]).toMatchObject({
          id: ack.assistantMessageId,
          status: 'stopped',
          content: 'halfway',
        });
        expect((await b.request('POST', `/threads/${thread.id}/stop`, { token: owner.accessToken })).status).toBe(404);
      }
    });

    it('should resume a reply running on A in a tab that joins on B mid-stream, without gap or repeat', async () => {
      const owner = await signUp();
      const thread = await newThread(owner);
      const [first, late, twice] = await Promise.all([open(a, owner), open(b, owner), open(b, owner)]);
      await joined(first, thread.id);
      const tokens = Array.from({ length: 30 }, (_, i) => `w${i} `);
      const ack = await first.emitAck('message:send', {
        threadId: thread.id,
        content: script({ tokens, tokenDelayMs: 30 }),
      });
      await first.until(() => (first.all('message:delta').length >= 3 ? true : undefined), 'three deltas');

      // One tab joins once; another joins twice at once (a retry racing the first attempt).
      const [join, ...joins] = await Promise.all([
        late.emitAck('thread:join', { threadId: thread.id }),
        twice.emitAck('thread:join', { threadId: thread.id }),
        twice.emitAck('thread:join', { threadId: thread.id }),
      ]);
      const all = await replyOf(first, ack.assistantMessageId);
      expect(all.done.message.content).toBe(tokens.join(''));
      const sofar = (seq: number) =>
        all.deltas
          .slice(0, seq)
          .map((d) => d.delta)
          .join('');

      expect(join).toMatchObject({ ok: true, streaming: { messageId: ack.assistantMessageId } });
      const snapshot: { content: string; seq: number } = join.streaming;
      // Mid-stream. (A relays to its own tabs before Redis has the delta, so the snapshot may be a delta behind them.)
      expect(snapshot.seq).toBeGreaterThanOrEqual(1);
      expect(snapshot.seq).toBeLessThan(all.deltas.length);
      expect(snapshot.content).toBe(sofar(snapshot.seq));
      const seen = await replyOf(late, ack.assistantMessageId);
      expect(seen.deltas.map((d) => d.seq)).toEqual(seqs(snapshot.seq + 1, all.deltas.length));
      expect(snapshot.content + seen.deltas.map((d) => d.delta).join('')).toBe(seen.done.message.content);
      expect(late.all('message:created')).toEqual([]);

      // Twice joined: each delta at most once, and the later snapshot plus what followed it is the whole reply.
      const last = joins.map((j) => j.streaming).sort((x, y) => y.seq - x.seq)[0];
      expect(last.content).toBe(sofar(last.seq));
      const again = await replyOf(twice, ack.assistantMessageId);
      const twiceSeqs = again.deltas.map((d) => d.seq);
      expect(new Set(twiceSeqs).size).toBe(twiceSeqs.length);
      const after = again.deltas.filter((d) => d.seq > last.seq);
      expect(after.map((d) => d.seq)).toEqual(seqs(last.seq + 1, all.deltas.length));
      expect(last.content + after.map((d) => d.delta).join('')).toBe(again.done.message.content);
    });

    it('should disconnect a user disabled through A on both instances, and a logged-out session on the other', async () => {
      const user = await signUp();
      const [onA, onB] = await Promise.all([open(a, user), open(b, user)]);
      const gone = [onA.disconnected(), onB.disconnected()];
      const res = await a.request('PATCH', `/admin/users/${user.id}`, {
        token: admin.accessToken,
        body: { disabled: true },
      });
      expect(res.status).toBe(200);
      expect(await Promise.all(gone)).toEqual(['io server disconnect', 'io server disconnect']);

      const other = await signUp();
      const otherSession = await accountsOf(b.request).login(other);
      const loggingOut = await open(a, other);
      const bystander = await open(b, { accessToken: otherSession.body.accessToken });
      const loggedOut = loggingOut.disconnected();
      expect((await b.request('POST', '/auth/logout', { body: { refreshToken: other.refreshToken } })).status).toBe(
        204,
      );
      expect(await loggedOut).toBe('io server disconnect');
      expect(bystander.connected).toBe(true);
    });

    it('should store and announce a reply as stopped when the instance running it shuts down', async () => {
      const c = await startInstance('C');
      try {
        const owner = await signUp();
        const thread = await newThread(owner);
        const [onB, onC] = await Promise.all([open(b, owner), open(c, owner)]);
        await Promise.all([joined(onB, thread.id), joined(onC, thread.id)]);
        const key = script({ tokens: ['cut', ' short', ' by', ' a', ' deploy'], stallAfter: 2 });
        const request = upstream.nextRequest((r) => lastUserText(r.body).includes(key));
        const ack = await onC.emitAck('message:send', { threadId: thread.id, content: `Deploy ${key}` });
        await onB.until(() => onB.deltaText() === 'cut short' || undefined, 'the tokens sent before the stall');
        // A rolling deploy: the instance running the reply is told to stop; the stalled reply is stopped after the grace.
        expect(await stopWithin(c.server)).toEqual({ code: 0, signal: null });
        await upstream.clientClosed(await request);
        const { deltas, done } = await replyOf(onB, ack.assistantMessageId);
        expect(deltas.map((d) => d.seq)).toEqual(seqs(1, deltas.length));
        expect(done.message).toMatchObject({ id: ack.assistantMessageId, status: 'stopped', content: 'cut short' });
        const stored = await b.request('GET', `/threads/${thread.id}/messages`, { token: owner.accessToken });
        expect(stored.body.items[1]).toMatchObject({
          id: ack.assistantMessageId,
          status: 'stopped',
          content: 'cut short',
        });
        expect(c.server.output()).not.toMatch(/unhandled|uncaught|"level":50/i);
      } finally {
        await stopWithin(c.server, 1000);
      }
    }, 20_000);

    it('should keep serving each instance while Redis is down and work across instances again once it is back', async () => {
      const owner = await signUp();
      const [thread, long] = await Promise.all([newThread(owner), newThread(owner, 'Long reply')]);
      const [onA, onB] = await Promise.all([open(a, owner), open(b, owner)]);
      await Promise.all([joined(onA, thread.id), joined(onB, thread.id), joined(onA, long.id)]);
      // A reply that runs on A through the whole outage.
      const longTokens = Array.from({ length: 400 }, (_, i) => `x${i} `);
      const running = await onA.emitAck('message:send', {
        threadId: long.id,
        content: script({ tokens: longTokens, tokenDelayMs: 25 }),
      });
      await onA.next('message:delta', (p) => p.messageId === running.assistantMessageId);

      await redis.kill();
      await healthBecomes('error');

      // Each instance still streams to its own sockets.
      const onlyA = await onA.emitAck('message:send', {
        threadId: thread.id,
        content: script({ tokens: ['still', ' here'] }),
      });
      expect(onlyA).toMatchObject({ ok: true });
      await expectWholeReply(onA, onlyA.assistantMessageId, 'still here');
      const onlyB = await onB.emitAck('message:send', {
        threadId: thread.id,
        content: script({ tokens: ['me', ' too'] }),
      });
      expect(onlyB).toMatchObject({ ok: true });
      await expectWholeReply(onB, onlyB.assistantMessageId, 'me too');
      expect([a.server.child.exitCode, b.server.child.exitCode]).toEqual([null, null]);

      await redis.restart();
      await healthBecomes('ok');
      await renameUntilHeard(a, owner, thread.id, onB);
      const across = await onA.emitAck('message:send', {
        threadId: thread.id,
        content: script({ tokens: ['across', ' again'], tokenDelayMs: 5 }),
      });
      await expectWholeReply(onB, across.assistantMessageId, 'across again');

      // The reply that ran through the outage: B resumes it from a consistent snapshot, and B can stop it.
      const late = await open(b, owner);
      const join = await late.emitAck('thread:join', { threadId: long.id });
      expect(join).toMatchObject({ ok: true, streaming: { messageId: running.assistantMessageId } });
      const deltasOnA = () => onA.all('message:delta', (p) => p.messageId === running.assistantMessageId);
      expect(join.streaming.content).toBe(
        deltasOnA()
          .slice(0, join.streaming.seq)
          .map((p) => p.delta)
          .join(''),
      );
      expect((await b.request('POST', `/threads/${long.id}/stop`, { token: owner.accessToken })).status).toBe(202);
      const { deltas, done } = await replyOf(late, running.assistantMessageId);
      await replyOf(onA, running.assistantMessageId);
      expect(done.message.status).toBe('stopped');
      expect(deltas.map((d) => d.seq)).toEqual(seqs(join.streaming.seq + 1, join.streaming.seq + deltas.length));
      expect(join.streaming.content + deltas.map((d) => d.delta).join('')).toBe(done.message.content);
      expect(done.message.content).toBe(
        deltasOnA()
          .map((p) => p.delta)
          .join(''),
      );
    }, 45_000);

    it('should let an instance started while Redis is down join the others once Redis is up', async () => {
      await redis.kill();
      await healthBecomes('error');
      const c = await startInstance('C');
      try {
        // It serves on its own through the outage, over several reconnection attempts.
        const observeUntil = Date.now() + 1500;
        while (Date.now() < observeUntil) {
          expect(await health(c)).toBe('error');
          await new Promise((r) => setTimeout(r, 100));
        }
        await redis.restart();
        await healthBecomes('ok', [a, b, c]);

        const owner = await signUp();
        const thread = await newThread(owner);
        const [onA, onC] = await Promise.all([open(a, owner), open(c, owner)]);
        await Promise.all([joined(onA, thread.id), joined(onC, thread.id)]);
        await renameUntilHeard(a, owner, thread.id, onC);
        const sent = await onA.emitAck('message:send', {
          threadId: thread.id,
          content: script({ tokens: ['made', ' it'] }),
        });
        await expectWholeReply(onC, sent.assistantMessageId, 'made it');
        // Account events reach it too.
        const gone = onC.disconnected();
        const res = await a.request('PATCH', `/admin/users/${owner.id}`, {
          token: admin.accessToken,
          body: { disabled: true },
        });
        expect(res.status).toBe(200);
        expect(await gone).toBe('io server disconnect');
      } finally {
        const exit = await stopWithin(c.server);
        expect(exit).toEqual({ code: 0, signal: null });
        expect(c.server.output()).not.toMatch(/unhandled|uncaught/i);
      }
    }, 30_000);
  });
}
