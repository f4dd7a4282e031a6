import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import OpenAI, { APIError } from 'openai';
import { type FetchLike, nodeFetch, streamedBody } from '../src/node-fetch';
import { type BodyFlow, flowBody } from '../src/openai-wire';

/*
 * nodeFetch against a real node:http server on loopback: what the server sends is what the Response (or its
 * streamed body) gives, what the client sends is what the server receives, and connections are kept or closed as
 * the reader says.
 */

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  remotePort: number;
}

type Handler = (req: IncomingMessage, res: ServerResponse, received: Received) => void | Promise<void>;

let server: Server;
let baseUrl: string;
let handler: Handler;
/** Every request the server got, in order, with its whole body. */
let received: Received[];
/** Every connection the server accepted. */
let sockets: Socket[];
let f: FetchLike;

beforeEach(async () => {
  received = [];
  sockets = [];
  handler = (_req, res) => void res.end();
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => {
      const entry: Received = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        remotePort: req.socket.remotePort ?? 0,
      };
      received.push(entry);
      void handler(req, res, entry);
    });
  });
  server.on('connection', (socket: Socket) => sockets.push(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  f = nodeFetch();
});

afterEach(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
  for (const socket of sockets) {
    if (!socket.destroyed) {
      socket.destroy();
    }
  }
});

/** Reads a node stream to its end as text. */
async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Writes the chunks of an event stream with a pause before each. */
async function writeSlowly(res: ServerResponse, parts: string[], pauseMs = 15): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const part of parts) {
    await sleep(pauseMs);
    if (res.destroyed) {
      return;
    }
    res.write(part);
  }
  res.end();
}

const EVENTS = ['data: {"n":1}\n\n', 'data: {"n":2}\n\n', 'data: {"n":3}\n\n', 'data: [DONE]\n\n'];

describe('nodeFetch', () => {
  it('should read a JSON response whole into a standard Response, with no streamed body', async () => {
    const sent = { id: 'x1', list: [1, 2, 3], nested: { ok: true, text: 'héllo' } };
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'req-42' });
      res.end(JSON.stringify(sent));
    };

    const response = await f(`${baseUrl}/v1/thing`);

    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('req-42');
    expect(streamedBody(response)).toBeNull();
    expect(await response.json()).toEqual(sent);
  });

  it('should hand over a 2xx event stream as a node stream, not as the Response body', async () => {
    handler = (_req, res) => writeSlowly(res, EVENTS);

    const response = await f(`${baseUrl}/v1/chat/completions`, { method: 'POST', body: '{}' });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.body).toBeNull();
    const stream = streamedBody(response);
    expect(stream).not.toBeNull();
    expect(await readAll(stream!)).toBe(EVENTS.join(''));
  });

  it('should buffer a non-2xx response, event stream or not, with its status, headers and body', async () => {
    const error = { error: { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit' } };
    handler = (_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' });
      res.end(JSON.stringify(error));
    };

    const response = await f(`${baseUrl}/v1/chat/completions`, { method: 'POST', body: '{}' });

    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('7');
    expect(streamedBody(response)).toBeNull();
    expect(await response.json()).toEqual(error);

    // An error that claims to be an event stream is still read whole.
    handler = (_req, res) => {
      res.writeHead(503, { 'content-type': 'text/event-stream' });
      res.end('upstream unavailable');
    };
    const failed = await f(`${baseUrl}/v1/chat/completions`, { method: 'POST', body: '{}' });
    expect(failed.status).toBe(503);
    expect(streamedBody(failed)).toBeNull();
    expect(await failed.text()).toBe('upstream unavailable');
  });

  it.each([
    [429, 'Rate limit reached for gpt-4o-mini'],
    [400, "Invalid value for 'temperature'"],
  ])(
    'should make a %i into an APIError with that status and message through the openai SDK',
    async (status, message) => {
      handler = (_req, res) => {
        res.writeHead(status, { 'content-type': 'application/json', 'retry-after': '1', 'x-request-id': 'req-err' });
        res.end(JSON.stringify({ error: { message, type: 'invalid_request_error', code: null } }));
      };
      const client = new OpenAI({ apiKey: 'x', baseURL: `${baseUrl}/v1`, maxRetries: 0, fetch: nodeFetch() });

      const error: unknown = await client.chat.completions
        .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
        .then(
          () => null,
          (err: unknown) => err,
        );

      expect(error).toBeInstanceOf(APIError);
      const apiError = error as APIError;
      expect(apiError.status).toBe(status);
      expect(apiError.message).toBe(`${status} ${message}`);
      expect(apiError.headers?.get('retry-after')).toBe('1');
      expect(apiError.requestID).toBe('req-err');
      expect(received).toHaveLength(1);
    },
  );

  it('should follow a 302 from a POST as a GET without the body', async () => {
    handler = (req, res) => {
      if (req.url === '/start') {
        res.writeHead(302, { location: '/landed?x=1' });
        res.end('moved');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"landed":true}');
    };

    const response = await f(`${baseUrl}/start`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"secret":"payload"}',
    });

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ landed: true });
    expect(received.map((r) => [r.method, r.url, r.body])).toEqual([
      ['POST', '/start', '{"secret":"payload"}'],
      ['GET', '/landed?x=1', ''],
    ]);
    expect(received[1].headers['content-length']).toBeUndefined();
    expect(received[1].headers['transfer-encoding']).toBeUndefined();
  });

  it('should follow a 307 with the same method and body', async () => {
    handler = (req, res) => {
      if (req.url === '/start') {
        res.writeHead(307, { location: `${baseUrl}/again` });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('kept');
    };

    const response = await f(`${baseUrl}/start`, { method: 'PUT', body: 'the same body' });

    expect(await response.text()).toBe('kept');
    expect(received.map((r) => [r.method, r.url, r.body])).toEqual([
      ['PUT', '/start', 'the same body'],
      ['PUT', '/again', 'the same body'],
    ]);
  });

  it('should follow at most 5 redirects and then return the last 3xx response as it is', async () => {
    handler = (req, res) => {
      const hop = Number(req.url?.split('/')[2]);
      res.writeHead(302, { location: `/hop/${hop + 1}`, 'content-type': 'text/plain' });
      res.end(`hop ${hop}`);
    };

    const response = await f(`${baseUrl}/hop/0`);

    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/hop/6');
    expect(await response.text()).toBe('hop 5');
    expect(received.map((r) => r.url)).toEqual(['/hop/0', '/hop/1', '/hop/2', '/hop/3', '/hop/4', '/hop/5']);
  });

  it('should decode a gzip-encoded body, whole or streamed', async () => {
    const json = JSON.stringify({ text: 'compressed '.repeat(200) });
    handler = (req, res) => {
      if (req.url === '/json') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        res.end(gzipSync(json));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' });
      res.end(gzipSync(EVENTS.join('')));
    };

    const whole = await f(`${baseUrl}/json`);
    expect(await whole.text()).toBe(json);

    const streamed = await f(`${baseUrl}/events`);
    expect(await readAll(streamedBody(streamed)!)).toBe(EVENTS.join(''));
  });

  it('should send the string body and the headers exactly as given', async () => {
    handler = (_req, res) => void res.end('ok');
    const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'ünïcödé ✓' }] });

    const response = await f(new URL(`${baseUrl}/v1/chat/completions?api-version=2`), {
      method: 'POST',
      headers: new Headers({
        Authorization: 'Bearer sk-abc',
        'Content-Type': 'application/json',
        'X-Custom': 'one',
      }),
      body,
    });

    expect(await response.text()).toBe('ok');
    const [request] = received;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/v1/chat/completions?api-version=2');
    expect(request.body).toBe(body);
    expect(request.headers.authorization).toBe('Bearer sk-abc');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['x-custom']).toBe('one');
    expect(request.headers['content-length']).toBe(String(Buffer.byteLength(body)));
  });

  it('should send a byte body exactly', async () => {
    handler = (_req, res) => void res.end('ok');
    const bytes = new TextEncoder().encode('bytes ✓');

    await (await f(`${baseUrl}/bytes`, { method: 'POST', body: bytes })).text();

    expect(received[0].body).toBe('bytes ✓');
    expect(received[0].headers['content-length']).toBe(String(bytes.length));
  });

  it('should reject with an AbortError when aborted while the server holds the response', async () => {
    const closed = new Promise<void>((resolve) => {
      handler = (_req, res) => {
        res.once('close', () => resolve());
      };
    });
    const controller = new AbortController();

    const pending = f(`${baseUrl}/slow`, { method: 'POST', body: '{}', signal: controller.signal });
    await until(() => received.length === 1);
    controller.abort();

    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await closed;
  });

  it('should stop the streamed body when aborted mid-stream, and close the response on the server', async () => {
    const parts = Array.from({ length: 100 }, (_, i) => `data: {"n":${i}}\n\n`);
    let serverClosed!: Promise<boolean>;
    handler = (_req, res) => {
      serverClosed = once(res, 'close').then(() => res.writableFinished);
      void writeSlowly(res, parts, 10);
    };
    const controller = new AbortController();

    const response = await f(`${baseUrl}/events`, { signal: controller.signal });
    const stream = streamedBody(response)!;
    const seen: string[] = [];
    let failure: unknown = null;
    try {
      for await (const chunk of stream) {
        seen.push((chunk as Buffer).toString('utf8'));
        if (seen.length === 2) {
          controller.abort();
        }
      }
    } catch (err) {
      failure = err;
    }

    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen.join('').length).toBeLessThan(parts.join('').length);
    expect(stream.destroyed).toBe(true);
    // The server saw its response close before it finished writing it.
    expect(await serverClosed).toBe(false);
    // The body fails as node:http fails an incomplete response (a node error, from another realm than jest's).
    expect(failure).toMatchObject({ code: 'ECONNRESET', message: 'aborted' });
  });

  it('should not crash when a gzip-encoded stream is aborted before anyone reads it', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' });
      res.write(gzipSync('data: {"n":1}\n\n').subarray(0, 10)); // the start of a gzip stream, then nothing
    };
    const controller = new AbortController();
    const response = await f(`${baseUrl}/events`, { signal: controller.signal });
    const stream = streamedBody(response)!;

    controller.abort();
    await sleep(50);

    expect(stream.destroyed).toBe(true);
    await expect(readAll(stream)).rejects.toBeDefined();
  });

  it('should reuse one connection for streams read to their end and closed as complete', async () => {
    handler = (_req, res) => writeSlowly(res, EVENTS, 5);

    for (let i = 0; i < 2; i++) {
      const response = await f(`${baseUrl}/v1/chat/completions`, { method: 'POST', body: '{}' });
      let text = '';
      const ended = new Promise<void>((resolve, reject) => {
        const flow = flowBody(response, {
          chunk: (bytes) => (text += Buffer.from(bytes).toString('utf8')),
          end: () => {
            flow?.close(true);
            resolve();
          },
          error: reject,
        });
      });
      await ended;
      expect(text).toBe(EVENTS.join(''));
    }

    expect(received).toHaveLength(2);
    expect(received[1].remotePort).toBe(received[0].remotePort);
    expect(sockets).toHaveLength(1);
  });

  it('should keep the connection when a stream closed as complete still has bytes after [DONE]', async () => {
    handler = async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: [DONE]\n\n');
      await sleep(30);
      res.end(': trailing comment\n\n');
    };

    const first = await f(`${baseUrl}/a`);
    const stream = streamedBody(first)!;
    const firstChunk = await new Promise<string>((resolve, reject) => {
      const flow = flowBody(first, {
        chunk: (bytes) => {
          flow?.close(true); // as the provider does at [DONE]
          resolve(Buffer.from(bytes).toString('utf8'));
        },
        end: () => reject(new Error('ended before the first chunk')),
        error: reject,
      });
    });
    expect(firstChunk).toBe('data: [DONE]\n\n');
    await once(stream, 'close');
    expect(stream.readableEnded).toBe(true); // drained to its end, not destroyed by the grace timer

    const second = await f(`${baseUrl}/b`);
    const stream2 = streamedBody(second)!;
    flowBody(second, { chunk: () => undefined, end: () => undefined, error: () => undefined })!.close(true);
    await once(stream2, 'close');
    expect(stream2.readableEnded).toBe(true);

    expect(received[1].remotePort).toBe(received[0].remotePort);
    expect(sockets).toHaveLength(1);
  });

  it('should close the connection of a stream closed early, and make the next request on a new one', async () => {
    const parts = Array.from({ length: 100 }, (_, i) => `data: {"n":${i}}\n\n`);
    handler = (_req, res) => writeSlowly(res, parts, 10);

    const first = await f(`${baseUrl}/v1/chat/completions`, { method: 'POST', body: '{}' });
    const flow = await new Promise<BodyFlow>((resolve, reject) => {
      const started = flowBody(first, {
        chunk: () => resolve(started!),
        end: () => reject(new Error('ended')),
        error: reject,
      });
    });
    const socketClosed = once(sockets[0], 'close');
    flow.close(false);
    await socketClosed;

    handler = (_req, res) => writeSlowly(res, EVENTS, 5);
    const second = await f(`${baseUrl}/v1/chat/completions`, { method: 'POST', body: '{}' });
    expect(await readAll(streamedBody(second)!)).toBe(EVENTS.join(''));

    expect(received).toHaveLength(2);
    expect(sockets).toHaveLength(2);
    expect(received[1].remotePort).not.toBe(received[0].remotePort);
  });

  describe('handing over to the built-in fetch', () => {
    it.each([
      ['URLSearchParams', () => new URLSearchParams({ a: '1', b: 'two words' }), 'a=1&b=two+words'],
      [
        'ReadableStream',
        () =>
          new ReadableStream<Uint8Array>({
            start(controller) {
              controller.enqueue(new TextEncoder().encode('streamed '));
              controller.enqueue(new TextEncoder().encode('request body'));
              controller.close();
            },
          }),
        'streamed request body',
      ],
    ])('should send a %s body with the built-in fetch', async (_name, makeBody, expected) => {
      handler = (_req, res) => writeSlowly(res, EVENTS, 5);

      const response = await f(`${baseUrl}/v1/form`, {
        method: 'POST',
        body: makeBody(),
        duplex: 'half',
      } as RequestInit);

      expect(received[0].body).toBe(expected);
      // The built-in fetch's Response: the event stream is its standard body.
      expect(streamedBody(response)).toBeNull();
      expect(response.body).not.toBeNull();
      expect(await response.text()).toBe(EVENTS.join(''));
    });

    it('should use the built-in fetch when NODE_USE_ENV_PROXY is set', async () => {
      handler = (_req, res) => writeSlowly(res, EVENTS, 5);
      const before = process.env.NODE_USE_ENV_PROXY;
      process.env.NODE_USE_ENV_PROXY = '1';
      try {
        const response = await f(`${baseUrl}/v1/chat/completions`, { method: 'POST', body: '{"a":1}' });

        expect(received[0].body).toBe('{"a":1}');
        expect(streamedBody(response)).toBeNull();
        expect(response.body).not.toBeNull();
        expect(await response.text()).toBe(EVENTS.join(''));
      } finally {
        if (before === undefined) {
          delete process.env.NODE_USE_ENV_PROXY;
        } else {
          process.env.NODE_USE_ENV_PROXY = before;
        }
      }
    });

    it('should use the built-in fetch for a Request', async () => {
      handler = (_req, res) => writeSlowly(res, EVENTS, 5);

      const response = await f(new Request(`${baseUrl}/v1/req`, { method: 'POST', body: 'as a request' }));

      expect(received[0].body).toBe('as a request');
      expect(streamedBody(response)).toBeNull();
      expect(await response.text()).toBe(EVENTS.join(''));
    });
  });
});

/** Waits until `condition` holds (polling every few milliseconds, for at most 5 s). */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error('condition not met in time');
    }
    await sleep(5);
  }
}
