import { MessageRepository, ownerScope, ThreadRepository, UsageRepository, UserRepository } from '@app/persistence';
import { startAuthApp, tokensOf, USER_KEYS } from './auth.fixtures';

type Ctx = Awaited<ReturnType<typeof startAuthApp>>;

describe('profile and self-service', () => {
  let ctx: Ctx;

  beforeAll(async () => {
    ctx = await startAuthApp();
  });
  afterAll(async () => {
    await ctx.close();
  });

  it('should rename the user', async () => {
    const account = await ctx.signUp();
    const res = await ctx.request('PATCH', '/auth/me', { token: account.accessToken, body: { name: ' Grace ' } });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(USER_KEYS);
    expect(res.body.name).toBe('Grace');
    expect((await ctx.request('GET', '/auth/me', { token: account.accessToken })).body.name).toBe('Grace');
  });

  it("should report the user's token usage today and in total", async () => {
    const account = await ctx.signUp();
    const usage = ctx.app.get(UsageRepository);
    await usage.add(account.id, { promptTokens: 10, completionTokens: 5 }, new Date());
    await usage.add(account.id, { promptTokens: 100, completionTokens: 50 }, new Date(Date.now() - 3 * 86_400_000));
    const me = await ctx.request('GET', '/auth/me', { token: account.accessToken });
    expect(me.body.usage).toEqual({
      today: { promptTokens: 10, completionTokens: 5 },
      total: { promptTokens: 110, completionTokens: 55 },
    });
  });

  it('should export the profile and every thread with every message of every branch, and nothing of others', async () => {
    const account = await ctx.signUp();
    const stranger = await ctx.signUp();
    const threads = ctx.app.get(ThreadRepository);
    const messages = ctx.app.get(MessageRepository);
    const scope = ownerScope(account.id);
    const thread = await threads.create(scope, { title: 'Branches', model: 'demo', systemPrompt: 'Be brief.' });
    const add = async (parentId: string | null, role: 'user' | 'assistant', content: string) =>
      (
        await messages.create(scope, {
          threadId: thread.id,
          parentId,
          role,
          content,
          model: 'demo',
          status: 'complete',
        })
      ).message;
    const q1 = await add(null, 'user', 'first question');
    const a1 = await add(q1.id, 'assistant', 'first answer');
    const q2a = await add(a1.id, 'user', 'follow-up, branch A');
    const a2a = await add(q2a.id, 'assistant', 'answer A');
    const q2b = await add(a1.id, 'user', 'follow-up, branch B (edited)');
    const a2b = await add(q2b.id, 'assistant', 'answer B');
    const a2b2 = await add(q2b.id, 'assistant', 'answer B, regenerated');
    await threads.update(scope, thread.id, { activeLeafId: a2b2.id });
    const empty = await threads.create(scope, { title: 'Empty', model: 'demo', systemPrompt: '' });
    await threads.create(ownerScope(stranger.id), { title: 'Not yours', model: 'demo', systemPrompt: '' });

    const res = await ctx.request('GET', '/auth/me/export', { token: account.accessToken });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ id: account.id, email: account.email });
    expect(res.body.threads.map((t: { id: string }) => t.id)).toEqual([thread.id, empty.id]);
    const exported = res.body.threads[0];
    expect(exported).toMatchObject({ title: 'Branches', systemPrompt: 'Be brief.', activeLeafId: a2b2.id });
    expect(exported.messages.map((m: { id: string }) => m.id).sort()).toEqual(
      [q1, a1, q2a, a2a, q2b, a2b, a2b2].map((m) => m.id).sort(),
    );
    expect(exported.messages.find((m: { id: string }) => m.id === q2b.id)).toMatchObject({
      parentId: a1.id,
      role: 'user',
      content: 'follow-up, branch B (edited)',
    });
    expect(res.body.threads[1].messages).toEqual([]);
    expect(JSON.stringify(res.body)).not.toContain('Not yours');
  });

  it('should delete the account with its threads (204) after the password is confirmed', async () => {
    const account = await ctx.signUp();
    const threads = ctx.app.get(ThreadRepository);
    await threads.create(ownerScope(account.id), { title: 'Doomed', model: 'demo', systemPrompt: '' });
    const other = tokensOf(await ctx.login(account));

    const wrong = await ctx.request('DELETE', '/auth/me', {
      token: account.accessToken,
      body: { password: 'not my password' },
    });
    expect(wrong.status).toBe(400);
    expect((await ctx.request('GET', '/auth/me', { token: account.accessToken })).status).toBe(200);

    const res = await ctx.request('DELETE', '/auth/me', {
      token: account.accessToken,
      body: { password: account.password },
    });
    expect(res.status).toBe(204);
    expect((await ctx.request('GET', '/auth/me', { token: account.accessToken })).status).toBe(401);
    expect((await ctx.request('GET', '/auth/me', { token: other.accessToken })).status).toBe(401);
    expect((await ctx.login(account)).status).toBe(401);
    expect(await threads.listAll(ownerScope(account.id))).toEqual([]);
    expect(await ctx.app.get(UserRepository).findById(account.id)).toBeNull();
  });
});
