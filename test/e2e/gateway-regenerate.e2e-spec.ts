import { type ChatApp, startChatApp } from '../support/chat-fixtures';
import { lastUserText } from '../support/fake-upstream';
import { connect, replyOf, type TestSocket } from '../support/socket-client';

describe('ChatGateway message:regenerate', () => {
  let ctx: ChatApp;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    ctx = await startChatApp();
    let n = 0;
    ctx.upstream.script = (body) => ({ tokens: [`Answer ${++n} to `, lastUserText(body)] });
  });
  afterEach(() => sockets.splice(0).forEach((s) => s.close()));
  afterAll(async () => {
    await ctx.close();
  });

  it('should stream a new answer as a sibling of the old one and make it the active branch', async () => {
    const owner = await ctx.signUp();
    const created = await ctx.request('POST', '/threads', { token: owner.accessToken, body: { title: 'Regen' } });
    const threadId: string = created.body.id;
    const socket = await connect(ctx.url, owner.accessToken);
    sockets.push(socket);
    expect(await socket.emitAck('thread:join', { threadId })).toMatchObject({ ok: true });
    const sent = await socket.emitAck('message:send', { threadId, content: 'why?' });
    const first = await replyOf(socket, sent.assistantMessageId);
    expect(first.done.message.content).toBe('Answer 1 to why?');

    const ack = await socket.emitAck('message:regenerate', { threadId, messageId: sent.assistantMessageId });
    expect(ack).toEqual({ ok: true, assistantMessageId: expect.any(String), parentId: sent.userMessage.id });
    expect(ack.assistantMessageId).not.toBe(sent.assistantMessageId);
    const second = await replyOf(socket, ack.assistantMessageId);
    expect(second.done.message).toMatchObject({ parentId: sent.userMessage.id, content: 'Answer 2 to why?' });

    const thread = await ctx.request('GET', `/threads/${threadId}`, { token: owner.accessToken });
    expect(thread.body.activeLeafId).toBe(ack.assistantMessageId);
    const tree = await ctx.request('GET', `/threads/${threadId}/messages?branch=all`, { token: owner.accessToken });
    expect(tree.body.items.filter((m: any) => m.parentId === sent.userMessage.id)).toHaveLength(2);
  });

  it('should refuse a user message id and a foreign thread with the contract codes', async () => {
    const owner = await ctx.signUp();
    const created = await ctx.request('POST', '/threads', { token: owner.accessToken, body: { title: 'Regen' } });
    const socket = await connect(ctx.url, owner.accessToken);
    sockets.push(socket);
    await socket.emitAck('thread:join', { threadId: created.body.id });
    const sent = await socket.emitAck('message:send', { threadId: created.body.id, content: 'q' });
    await replyOf(socket, sent.assistantMessageId);
    const wrong = await socket.emitAck('message:regenerate', {
      threadId: created.body.id,
      messageId: sent.userMessage.id,
    });
    expect(wrong).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
    const stranger = await connect(ctx.url, (await ctx.signUp()).accessToken);
    sockets.push(stranger);
    expect(await stranger.emitAck('message:regenerate', { threadId: created.body.id })).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
  });
});
