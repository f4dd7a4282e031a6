import { EventEmitter } from 'node:events';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import {
  type ChatRequestBody,
  ChunkWriter,
  completionJson,
  errorJson,
  type FakeModel,
  type FakeReply,
  invalidKeyJson,
  modelsJson,
  type ResolvedReply,
  resolveReply,
} from './fake-upstream.wire';

export * from './fake-upstream.wire';

export type FakeScript = (body: ChatRequestBody, request: RecordedRequest) => FakeReply | undefined;

export type RequestState = 'pending' | 'completed' | 'client-closed' | 'dropped' | 'stalled';

export interface RecordedRequest {
  /** 1-based, in arrival order (not reset by `reset()`). */
  id: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (`{}` when there is none or it is not a JSON object; see `rawBody`). */
  body: ChatRequestBody;
  rawBody: string;
  /** `process.hrtime.bigint()` when the request was complete. */
  receivedAt: bigint;
  /** `process.hrtime.bigint()` when each content-token chunk was written. */
  tokenTimes: bigint[];
  state: RequestState;
}

export interface FakeUpstreamOptions {
  host?: string;
  port?: number;
  /** Applied to every reply for the fields it does not set. */
  defaults?: FakeReply;
  /** With it, the default reply has exactly this many tokens (the echo, repeated or cut). */
  defaultTokenCount?: number;
  /** When set, requests without `Authorization: Bearer <apiKey>` get a 401 that, like OpenAI's, names the key. */
  apiKey?: string;
  /** What `GET /v1/models` lists: ids, or objects with extra fields such as OpenRouter's `context_length`. */
  models?: FakeModel[];
}

export interface FakeUpstreamEvents {
  request: [RecordedRequest];
  /** The client closed the connection before the response was complete (an abort reached the upstream). */
  clientClose: [RecordedRequest];
  /** The response of a chat request ended, whatever the reason (see `state`). */
  settled: [RecordedRequest];
}

/**
 * A fake OpenAI-compatible upstream: a real HTTP server on loopback speaking the chat-completions wire format
 * (SSE streaming and plain JSON), scriptable per request, recording everything it receives. Tests point the real
 * `openai` SDK (or the whole server, via OPENAI_BASE_URL) at `baseUrl`.
 */
export class FakeUpstream extends EventEmitter<FakeUpstreamEvents> {
  /** Every request received, in order (chat, models and anything else). */
  readonly requests: RecordedRequest[] = [];
  /** Consulted when the queue is empty; return `undefined` for the default reply. */
  script: FakeScript | null = null;
  models: FakeModel[];
  /** How `GET /v1/models` answers: an error `status`, a `latencyMs` before it, extra `headers`. */
  modelsReply: Pick<FakeReply, 'status' | 'latencyMs' | 'headers'> = {};

  private readonly queue: FakeReply[] = [];
  private lastId = 0;
  private readonly sockets = new Set<Socket>();
  private readonly closedBy = new Map<number, Promise<void>>();
  private readonly server: Server;
  private address: { host: string; port: number } | null = null;

  constructor(private readonly options: FakeUpstreamOptions = {}) {
    super();
    this.models = options.models ?? ['gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small'];
    this.server = createServer({ noDelay: true, keepAlive: true }, (req, res) => void this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  /** Listens on a free loopback port; resolves with `url`. */
  async start(): Promise<string> {
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address();
    if (!address || typeof address === 'string') {
      throw new Error('fake upstream: no TCP address');
    }
    this.address = { host, port: address.port };
    return this.url;
  }

  /** Stops listening and destroys every open socket (stalled streams included). */
  async close(): Promise<void> {
    if (!this.server.listening) {
      return;
    }
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) {
      socket.destroy();
    }
    this.server.closeAllConnections();
    await closed;
  }

  /** `http://127.0.0.1:<port>` */
  get url(): string {
    if (!this.address) {
      throw new Error('fake upstream: not started');
    }
    return `http://${this.address.host}:${this.address.port}`;
  }

  /** What OPENAI_BASE_URL / the SDK's `baseURL` should be: `<url>/v1`. */
  get baseUrl(): string {
    return `${this.url}/v1`;
  }

  get chatRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.path === '/v1/chat/completions');
  }

  /** When the first content token of each chat request was written (`process.hrtime.bigint()`), in order. */
  get firstTokenTimes(): bigint[] {
    return this.chatRequests.flatMap((r) => r.tokenTimes.slice(0, 1));
  }

  /** Queues replies for the next chat requests, first in first out (before `script`). */
  enqueue(...replies: FakeReply[]): this {
    this.queue.push(...replies);
    return this;
  }

  /** Forgets recorded requests, queued replies and the script. */
  reset(): void {
    this.requests.length = 0;
    this.queue.length = 0;
    this.script = null;
    this.modelsReply = {};
    this.closedBy.clear();
  }

  /** Resolves with the next request that arrives (optionally the next one matching `predicate`). */
  nextRequest(predicate: (r: RecordedRequest) => boolean = () => true): Promise<RecordedRequest> {
    return new Promise((resolve) => {
      const onRequest = (r: RecordedRequest) => {
        if (predicate(r)) {
          this.off('request', onRequest);
          resolve(r);
        }
      };
      this.on('request', onRequest);
    });
  }

  /** Resolves once at least `count` chat requests were received. */
  async waitForChatRequests(count: number): Promise<RecordedRequest[]> {
    while (this.chatRequests.length < count) {
      await this.nextRequest((r) => r.path === '/v1/chat/completions');
    }
    return this.chatRequests;
  }

  /**
   * Resolves when the client closed the connection of that request before its response was complete — the proof
   * that an abort really reached the upstream. Never resolves for a response that completed normally.
   */
  clientClosed(request: RecordedRequest | number): Promise<void> {
    const id = typeof request === 'number' ? request : request.id;
    const known = this.closedBy.get(id);
    if (known) {
      return known;
    }
    const promise = new Promise<void>((resolve) => {
      const rec = this.requests.find((r) => r.id === id);
      if (rec?.state === 'client-closed') {
        resolve();
        return;
      }
      const onClose = (r: RecordedRequest) => {
        if (r.id === id) {
          this.off('clientClose', onClose);
          resolve();
        }
      };
      this.on('clientClose', onClose);
    });
    this.closedBy.set(id, promise);
    return promise;
  }

  /** Resolves when the response of that request ended, whatever the reason. */
  settled(request: RecordedRequest | number): Promise<RecordedRequest> {
    const id = typeof request === 'number' ? request : request.id;
    return new Promise((resolve) => {
      const rec = this.requests.find((r) => r.id === id);
      if (rec && rec.state !== 'pending' && rec.state !== 'stalled') {
        resolve(rec);
        return;
      }
      const onSettled = (r: RecordedRequest) => {
        if (r.id === id) {
          this.off('settled', onSettled);
          resolve(r);
        }
      };
      this.on('settled', onSettled);
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = (req.url ?? '/').split('?')[0];
    let parsed: unknown = undefined;
    try {
      parsed = raw.length > 0 ? JSON.parse(raw) : undefined;
    } catch {
      // recorded as rawBody; a chat request gets a 400 below
    }
    const isObject = typeof parsed === 'object' && parsed !== null;
    const record: RecordedRequest = {
      id: ++this.lastId,
      method: req.method ?? 'GET',
      path,
      headers: req.headers,
      body: isObject && !Array.isArray(parsed) ? (parsed as ChatRequestBody) : {},
      rawBody: raw,
      receivedAt: process.hrtime.bigint(),
      tokenTimes: [],
      state: 'pending',
    };
    this.requests.push(record);
    this.emit('request', record);

    if (this.options.apiKey !== undefined && req.headers.authorization !== `Bearer ${this.options.apiKey}`) {
      const sent = req.headers.authorization?.replace(/^Bearer /, '') ?? '';
      return this.sendJson(res, record, 401, invalidKeyJson(sent));
    }
    if (req.method === 'GET' && path === '/v1/models') {
      return this.sendModels(res, record);
    }
    if (req.method === 'GET' && path === '/__fake/stats') {
      return this.sendJson(res, record, 200, this.stats());
    }
    if (req.method === 'POST' && path === '/__fake/replies') {
      this.enqueue(...(Array.isArray(parsed) ? (parsed as FakeReply[]) : [record.body as FakeReply]));
      return this.sendJson(res, record, 200, { queued: this.queue.length });
    }
    if (req.method === 'POST' && path === '/v1/chat/completions') {
      if (!isObject) {
        return this.sendJson(res, record, 400, errorJson(400, 'We could not parse the JSON body of your request.'));
      }
      return this.sendCompletion(res, record, record.body);
    }
    return this.sendJson(res, record, 404, errorJson(404, `Unknown request URL: ${req.method} ${path}`));
  }

  private replyFor(body: ChatRequestBody, record: RecordedRequest): ResolvedReply {
    const scripted = this.queue.shift() ?? this.script?.(body, record) ?? {};
    return resolveReply({ ...this.options.defaults, ...scripted }, body, this.options.defaultTokenCount);
  }

  private async sendCompletion(res: ServerResponse, record: RecordedRequest, body: ChatRequestBody): Promise<void> {
    const reply = this.replyFor(body, record);
    let clientGone = false;
    res.once('close', () => {
      // 'close' also follows a normal end or our own drop; only an unfinished, undropped response was the client's doing.
      if (!res.writableFinished && (record.state === 'pending' || record.state === 'stalled')) {
        clientGone = true;
        record.state = 'client-closed';
        this.emit('clientClose', record);
        this.emit('settled', record);
      }
    });
    if (reply.latencyMs > 0) {
      await pause(res, reply.latencyMs);
    }
    if (clientGone || record.state !== 'pending') {
      return;
    }
    if (reply.status >= 400) {
      return this.sendJson(res, record, reply.status, reply.errorBody ?? errorJson(reply.status), reply.headers);
    }
    const id = `chatcmpl-fake-${record.id}`;
    if (body.stream !== true) {
      if (reply.dropAfter >= 0) {
        return this.drop(res, record);
      }
      if (reply.stallAfter >= 0) {
        record.state = 'stalled';
        return;
      }
      return this.sendJson(res, record, 200, completionJson(id, body, reply), reply.headers);
    }

    const sse = new ChunkWriter(id, body);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      ...reply.headers,
    });
    await write(res, sse.role());
    for (const [i, thought] of reply.reasoning.entries()) {
      if (clientGone || res.destroyed) {
        return;
      }
      if (i > 0 && reply.tokenDelayMs > 0) {
        await pause(res, reply.tokenDelayMs);
      }
      await write(res, sse.reasoning(thought, reply.reasoningField));
    }
    for (let i = 0; i <= reply.tokens.length; i++) {
      if (clientGone || res.destroyed) {
        return;
      }
      if (i === reply.dropAfter) {
        return this.drop(res, record);
      }
      if (i === reply.stallAfter) {
        record.state = 'stalled';
        return;
      }
      if (i === reply.tokens.length) {
        break;
      }
      if (i > 0 && reply.tokenDelayMs > 0) {
        await pause(res, reply.tokenDelayMs);
        if (clientGone || res.destroyed) {
          return;
        }
      }
      record.tokenTimes.push(process.hrtime.bigint());
      await write(res, sse.token(reply.tokens[i]));
    }
    if (reply.finishReason !== null) {
      await write(res, sse.finish(reply.finishReason));
    }
    const usage = sse.usage(reply.usage);
    if (usage) {
      await write(res, usage);
    }
    await write(res, sse.done());
    this.finish(res, record);
  }

  private async sendModels(res: ServerResponse, record: RecordedRequest): Promise<void> {
    const { status = 200, latencyMs = 0, headers = {} } = this.modelsReply;
    if (latencyMs > 0) {
      await pause(res, latencyMs);
      if (res.destroyed) {
        record.state = 'client-closed';
        this.emit('clientClose', record);
        return;
      }
    }
    if (status >= 400) {
      return this.sendJson(res, record, status, errorJson(status, 'models unavailable'), headers);
    }
    this.sendJson(res, record, 200, modelsJson(this.models), headers);
  }

  private sendJson(
    res: ServerResponse,
    record: RecordedRequest,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
    this.finish(res, record);
  }

  private finish(res: ServerResponse, record: RecordedRequest): void {
    if (!res.writableEnded) {
      res.end();
    }
    record.state = 'completed';
    this.emit('settled', record);
  }

  private drop(res: ServerResponse, record: RecordedRequest): void {
    record.state = 'dropped';
    res.socket?.destroy();
    this.emit('settled', record);
  }

  /** Timing figures for benchmarks in another process (`GET /__fake/stats`); hrtime values as decimal strings. */
  stats(): { requests: number; chat: Array<{ id: number; receivedAt: string; tokenTimes: string[]; state: string }> } {
    return {
      requests: this.requests.length,
      chat: this.chatRequests.map((r) => ({
        id: r.id,
        receivedAt: String(r.receivedAt),
        tokenTimes: r.tokenTimes.map(String),
        state: r.state,
      })),
    };
  }
}

/** Starts a fake upstream; `close()` it in `afterAll`/`afterEach`. */
export async function startFakeUpstream(options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  const upstream = new FakeUpstream(options);
  await upstream.start();
  return upstream;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

/** Resolves once the data was handed to the kernel, so a following `destroy()` cannot discard it. */
function write(res: ServerResponse, data: string): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed) {
      resolve();
      return;
    }
    res.write(data, () => resolve());
  });
}

/** Waits `ms`, or less when the connection closes first (so no timer outlives a test). */
function pause(res: ServerResponse, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      res.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    res.once('close', done);
  });
}
