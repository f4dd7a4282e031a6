import { Agent as HttpAgent, type IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

/** The `fetch` signature the `openai` SDK takes (its `fetch` option). */
export type FetchLike = (url: string | URL | Request, init?: RequestInit) => Promise<Response>;

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Statuses whose Response must have no body. */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/** Streamed bodies handed over next to their Response (see `streamedBody`). */
const streamed = new WeakMap<Response, Readable>();

/**
 * The node stream of a streamed (`text/event-stream`, 2xx) response made by a `nodeFetch`, for reading it without
 * web streams; null for any other response (read its `body` as usual).
 */
export function streamedBody(response: Response): Readable | null {
  return streamed.get(response) ?? null;
}

/**
 * A `fetch` for the provider's OpenAI client on `node:http`/`node:https` with keep-alive agents, instead of the
 * built-in fetch: with 100 concurrent streams, fetch's web streams and its WebAssembly HTTP parser were about a sixth
 * of the server's CPU, and it added about half a millisecond to the start of every request (bench:gateway,
 * bench:pipeline). The SDK still builds, authenticates and checks every request; only the transport changes.
 *
 * A 2xx `text/event-stream` response resolves with no body in the Response; its bytes are read from `streamedBody`
 * (the provider does). Every other response is read whole into a standard Response, so the SDK parses errors and
 * JSON as it always does. Redirects are followed (at most 5), gzip/deflate/br bodies decoded, the signal aborts the
 * request and its body. Bodies other than text or bytes, and `NODE_USE_ENV_PROXY` (the built-in fetch's proxy
 * support), go to the built-in fetch.
 */
export function nodeFetch(): FetchLike {
  const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
  const viaNode = (url: URL, init: RequestInit, hops: number): Promise<Response> =>
    new Promise((resolve, reject) => {
      const secure = url.protocol === 'https:';
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((value, name) => (headers[name] = value));
      const send = secure ? httpsRequest : httpRequest;
      const req = send(
        url,
        {
          method: init.method ?? 'GET',
          headers,
          agent: secure ? agents.https : agents.http,
          signal: init.signal ?? undefined,
        },
        (res) => {
          const status = res.statusCode ?? 0;
          const location = res.headers.location;
          if (REDIRECTS.has(status) && location && hops < MAX_REDIRECTS) {
            res.resume();
            const keepsBody = status === 307 || status === 308;
            const next: RequestInit = keepsBody ? init : { ...init, method: 'GET', body: undefined };
            resolve(viaNode(new URL(location, url), next, hops + 1));
            return;
          }
          const responseHeaders = new Headers();
          for (let i = 0; i < res.rawHeaders.length; i += 2) {
            responseHeaders.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
          }
          const body = decoded(res);
          const meta = { status, statusText: res.statusMessage, headers: responseHeaders };
          const isStream = (res.headers['content-type'] ?? '').startsWith('text/event-stream');
          if (status >= 200 && status < 300 && isStream) {
            const response = new Response(null, meta);
            streamed.set(response, body);
            resolve(response);
            return;
          }
          const chunks: Buffer[] = [];
          body.on('data', (chunk: Buffer) => chunks.push(chunk));
          body.once('error', reject);
          body.once('end', () => resolve(new Response(NULL_BODY.has(status) ? null : Buffer.concat(chunks), meta)));
        },
      );
      req.once('error', reject);
      req.end(init.body as string | Uint8Array | undefined);
    });
  return (input, init = {}) => {
    const body = init.body;
    const plainBody = body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;
    if (input instanceof Request || !plainBody || process.env.NODE_USE_ENV_PROXY) {
      return fetch(input, init);
    }
    return viaNode(new URL(input), init, 0);
  };
}

/** The response's bytes, decompressed when the server encoded them. */
function decoded(res: IncomingMessage): Readable {
  const encoding = (res.headers['content-encoding'] ?? '').trim().toLowerCase();
  const decoder =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? createGunzip()
      : encoding === 'deflate'
        ? createInflate()
        : encoding === 'br'
          ? createBrotliDecompress()
          : null;
  if (!decoder) {
    return res;
  }
  res.once('error', (err) => decoder.destroy(err));
  // Like an IncomingMessage's, an error nobody listens for (an abort before the body is read) is not thrown.
  decoder.on('error', () => undefined);
  // Left early (the reader destroyed the decoder): the connection goes too.
  decoder.once('close', () => !res.complete && res.destroy());
  return res.pipe(decoder);
}
