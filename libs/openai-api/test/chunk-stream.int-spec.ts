import type { Response } from 'express';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ChunkStream } from '../src/wire/chunk-stream';

/** A real HTTP server whose one response is written by `write`; resolves with the raw body the client read. */
async function serve(write: (res: Response) => Promise<void>): Promise<string> {
  const server = createServer((_req, res: ServerResponse) => {
    // ChunkStream uses only what express adds on top of Node's response: `status()`.
    const express = Object.assign(res, {
      status(code: number) {
        res.statusCode = code;
        return express;
      },
    }) as unknown as Response;
    void write(express);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/`);
    return await res.text();
  } finally {
    server.close();
  }
}

const identity = { id: 'chatcmpl-1', model: 'm', created: 1 };

describe(ChunkStream.name, () => {
  it('should send : ping comments while the model is silent', async () => {
    const body = await serve(async (res) => {
      // Waits for the pings themselves rather than for a time, so a loaded machine only makes the test slower.
      let pings = 0;
      let twoPings!: () => void;
      const sent = new Promise<void>((resolve) => (twoPings = resolve));
      const write = res.write.bind(res) as (chunk: string) => boolean;
      res.write = ((chunk: string) => {
        if (chunk === ': ping\n\n' && ++pings === 2) {
          twoPings();
        }
        return write(chunk);
      }) as typeof res.write;
      const stream = new ChunkStream(res, identity, false, 40);
      await sent;
      stream.delta('hello');
      stream.finish({ promptTokens: 1, completionTokens: 1 });
    });
    const frames = body.split('\n\n').filter(Boolean);
    const pings = frames.filter((f) => f === ': ping');
    expect(frames.slice(1, 3)).toEqual([': ping', ': ping']); // the silence after the role chunk
    expect(pings).toHaveLength(2);
    expect(frames.at(-1)).toBe('data: [DONE]');
    expect(frames.filter((f) => f.startsWith('data: {')).map((f) => JSON.parse(f.slice(6)).choices[0])).toEqual([
      { index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null },
      { index: 0, delta: { content: 'hello' }, logprobs: null, finish_reason: null },
      { index: 0, delta: {}, logprobs: null, finish_reason: 'stop' },
    ]);
  });

  it('should end with an error frame and no [DONE] when the reply fails after it began', async () => {
    const body = await serve(async (res) => {
      const stream = new ChunkStream(res, identity, true, 1000);
      stream.delta('par');
      stream.fail({ message: 'The model provider failed', type: 'api_error', param: null, code: 'upstream_error' });
      stream.delta('ignored after the end');
    });
    const frames = body.split('\n\n').filter(Boolean);
    expect(JSON.parse(frames.at(-1)!.slice(6))).toEqual({
      error: { message: 'The model provider failed', type: 'api_error', param: null, code: 'upstream_error' },
    });
    expect(body).not.toContain('[DONE]');
    expect(body).not.toContain('ignored');
    expect(JSON.parse(frames[1].slice(6))).toMatchObject({ usage: null, choices: [{ delta: { content: 'par' } }] });
  });
});
