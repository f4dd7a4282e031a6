import { jest } from '@jest/globals';
import type { MessageEntity } from '@app/persistence';
import type { Response } from 'express';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ReplyFollower } from '../generation/reply-follower';
import type { Started } from '../generation/started';
import { toMessageView } from '../presenters';
import { streamReply } from './sse-responder';

function message(id: string, role: 'user' | 'assistant'): MessageEntity {
  return {
    id,
    threadId: 't1',
    ownerId: 'u1',
    parentId: null,
    role,
    content: role === 'user' ? 'Hi' : '',
    reasoning: null,
    model: 'm',
    status: role === 'user' ? 'complete' : 'streaming',
    usage: null,
    clientMessageId: null,
    createdAt: new Date(0),
    updatedAt: new Date(0),
  };
}

describe('streamReply', () => {
  let server: Server;
  afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('should stop its heartbeat and detach when the client left before the reply was streamed to it', async () => {
    const detach = jest.fn();
    const follower = {
      attach: jest.fn(async () => ({ sofar: { messageId: 'a1', content: '', seq: 0 }, detach })),
    } as unknown as ReplyFollower;
    const assistant = message('a1', 'assistant');
    const started: Started = {
      userMessage: message('q1', 'user'),
      assistantMessage: assistant,
      created: toMessageView(assistant),
      local: null,
    };
    let writes = 0;
    let received!: () => void;
    const arrived = new Promise<void>((resolve) => (received = resolve));
    const streamed = new Promise<void>((resolve, reject) => {
      server = createServer((req, res) => {
        received();
        // The send is still being admitted when the client goes away; the reply is streamed to it afterwards.
        req.socket.once('close', () =>
          setTimeout(() => {
            const write = res.write.bind(res);
            res.write = ((...args: Parameters<typeof write>) => {
              writes += 1;
              return write(...args);
            }) as typeof res.write;
            // Express's `status` on Node's response (the one Express method streamReply uses).
            const express = Object.assign(res, { status: (code: number) => ((res.statusCode = code), express) });
            streamReply(express as unknown as Response, 'u1', started, follower, 10).then(resolve, reject);
          }, 10),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = request({ port: (server.address() as AddressInfo).port, method: 'POST' });
    client.on('error', () => undefined);
    client.write('{}');
    // The client leaves once the server has its request (a fixed delay could come before it on a loaded machine).
    await arrived;
    client.destroy();
    await streamed;

    expect(detach).toHaveBeenCalledTimes(1);
    const after = writes;
    await new Promise((resolve) => setTimeout(resolve, 60)); // six heartbeat intervals
    expect(writes).toBe(after);
  });
});
