/** The OpenAI chat-completions wire format as the fake upstream speaks it, and what a scripted reply may set. */

/** What the fake answers to one chat-completions request. Every field is optional. */
export interface FakeReply {
  /** Content tokens, streamed one chunk each. Default: `echoTokens(last user message)`. */
  tokens?: string[];
  /** Delay between two content tokens, ms (the first token follows the headers at once). */
  tokenDelayMs?: number;
  /** Delay before the response headers, ms. */
  latencyMs?: number;
  /** An error status (>= 400): answers with an OpenAI-style error JSON body instead of a completion. */
  status?: number;
  /** The error body for `status` (default: `{ error: { message, type, param, code } }`). */
  errorBody?: unknown;
  /** Extra response headers (e.g. `{ 'retry-after': '7' }`). */
  headers?: Record<string, string>;
  /** Destroy the socket after this many content tokens were written (0 = right after the headers). */
  dropAfter?: number;
  /** Stop sending after this many content tokens and keep the socket open until the client closes it. */
  stallAfter?: number;
  /** Usage numbers (default: derived from the request and the token count); `null` never sends usage. */
  usage?: WireUsage | null;
  /** The final chunk's finish_reason (default 'stop'); `null` sends no final chunk (a truncated stream). */
  finishReason?: string | null;
  /** Thinking tokens streamed before the content, one chunk each, in `reasoningField` of the delta. */
  reasoning?: string[];
  /** Where the thinking goes: `reasoning_content` (DeepSeek, vLLM; the default) or `reasoning` (OpenRouter, Ollama). */
  reasoningField?: 'reasoning_content' | 'reasoning';
}

/** A `GET /v1/models` entry: an id, or an object with an id and extra fields (`context_length`, `name`, ...). */
export type FakeModel = string | ({ id: string } & Record<string, unknown>);

/** A reply with every default applied. */
export interface ResolvedReply {
  tokens: string[];
  tokenDelayMs: number;
  latencyMs: number;
  status: number;
  errorBody: unknown;
  headers: Record<string, string>;
  /** -1: never. */
  dropAfter: number;
  /** -1: never. */
  stallAfter: number;
  usage: WireUsage | null;
  finishReason: string | null;
  reasoning: string[];
  reasoningField: 'reasoning_content' | 'reasoning';
}

export interface WireUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

/** The parts of a chat-completions request body the fake looks at (the whole body is recorded). */
export interface ChatRequestBody {
  model?: string;
  messages?: Array<{ role: string; content: unknown }>;
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
  [key: string]: unknown;
}

/** The default reply: deterministic, derived from the last user message. */
export function echoTokens(lastUserText: string): string[] {
  const words = lastUserText.split(/\s+/).filter(Boolean);
  return ['You', ' said', ':', ...(words.length ? words.map((w) => ` ${w}`) : [' nothing'])];
}

export function lastUserText(body: ChatRequestBody): string {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i].role === 'user') {
      const content = messages[i].content;
      return typeof content === 'string' ? content : '';
    }
  }
  return '';
}

/** Applies the defaults; `defaultTokenCount` repeats or cuts the echo to exactly that many tokens. */
export function resolveReply(reply: FakeReply, body: ChatRequestBody, defaultTokenCount?: number): ResolvedReply {
  let tokens = reply.tokens;
  if (!tokens) {
    const echo = echoTokens(lastUserText(body));
    tokens =
      defaultTokenCount === undefined
        ? echo
        : Array.from({ length: defaultTokenCount }, (_, i) => echo[i % echo.length]);
  }
  return {
    tokens,
    tokenDelayMs: reply.tokenDelayMs ?? 0,
    latencyMs: reply.latencyMs ?? 0,
    status: reply.status ?? 200,
    errorBody: reply.errorBody,
    headers: reply.headers ?? {},
    dropAfter: reply.dropAfter ?? -1,
    stallAfter: reply.stallAfter ?? -1,
    usage: reply.usage === undefined ? defaultUsage(body, tokens.length + (reply.reasoning?.length ?? 0)) : reply.usage,
    finishReason: reply.finishReason === undefined ? 'stop' : reply.finishReason,
    reasoning: reply.reasoning ?? [],
    reasoningField: reply.reasoningField ?? 'reasoning_content',
  };
}

/** The SSE events of one streamed completion (`data: <chat.completion.chunk>\n\n`). */
export class ChunkWriter {
  private readonly includeUsage: boolean;
  private readonly created = Math.floor(Date.now() / 1000);

  constructor(
    private readonly id: string,
    private readonly body: ChatRequestBody,
  ) {
    this.includeUsage = body.stream_options?.include_usage === true;
  }

  /** OpenAI's first chunk: the role and empty content. */
  role(): string {
    return this.chunk([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]);
  }

  token(text: string): string {
    return this.chunk([{ index: 0, delta: { content: text }, logprobs: null, finish_reason: null }]);
  }

  /** A thinking-text chunk, as providers that stream reasoning apart send it. */
  reasoning(text: string, field: 'reasoning_content' | 'reasoning'): string {
    return this.chunk([{ index: 0, delta: { [field]: text }, logprobs: null, finish_reason: null }]);
  }

  finish(reason: string): string {
    return this.chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: reason }]);
  }

  /** Only with `stream_options.include_usage`: a chunk with empty choices and the usage. */
  usage(usage: WireUsage | null): string | null {
    return this.includeUsage && usage ? this.chunk([], { usage: usageJson(usage) }) : null;
  }

  done(): string {
    return 'data: [DONE]\n\n';
  }

  private chunk(choices: unknown[], extra: Record<string, unknown> = {}): string {
    const payload = {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: modelOf(this.body),
      system_fingerprint: null,
      choices,
      // With include_usage, OpenAI sends `usage: null` on every chunk but the last.
      ...(this.includeUsage ? { usage: null } : {}),
      ...extra,
    };
    return `data: ${JSON.stringify(payload)}\n\n`;
  }
}

export function completionJson(id: string, body: ChatRequestBody, reply: ResolvedReply) {
  return {
    id,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: modelOf(body),
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: reply.tokens.join(''),
          refusal: null,
          ...(reply.reasoning.length > 0 ? { [reply.reasoningField]: reply.reasoning.join('') } : {}),
        },
        logprobs: null,
        finish_reason: reply.finishReason ?? 'stop',
      },
    ],
    ...(reply.usage ? { usage: usageJson(reply.usage) } : {}),
    system_fingerprint: null,
  };
}

export function modelsJson(models: FakeModel[]) {
  return {
    object: 'list',
    data: models.map((m) => ({
      object: 'model',
      created: 1_700_000_000,
      owned_by: 'fake',
      ...(typeof m === 'string' ? { id: m } : m),
    })),
  };
}

export function errorJson(status: number, message = defaultErrorMessage(status)) {
  const type = status === 429 ? 'requests' : status >= 500 ? 'server_error' : 'invalid_request_error';
  const code = status === 429 ? 'rate_limit_exceeded' : null;
  return { error: { message, type, param: null, code } };
}

/** What OpenAI answers to a wrong key: a 401 whose message quotes the key that was sent. */
export function invalidKeyJson(sentKey: string) {
  return {
    error: {
      message: `Incorrect API key provided: ${sentKey}. You can find your API key at https://platform.openai.com.`,
      type: 'invalid_request_error',
      param: null,
      code: 'invalid_api_key',
    },
  };
}

function defaultErrorMessage(status: number): string {
  if (status === 429) {
    return 'Rate limit reached for requests';
  }
  if (status >= 500) {
    return 'The server had an error while processing your request.';
  }
  return 'Bad request';
}

function defaultUsage(body: ChatRequestBody, completionTokens: number): WireUsage {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  const words = messages.reduce(
    (n, m) => n + (typeof m.content === 'string' ? m.content.split(/\s+/).filter(Boolean).length : 0),
    0,
  );
  return { prompt_tokens: words + 4 * messages.length + 3, completion_tokens: completionTokens };
}

function usageJson(usage: WireUsage) {
  return { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens };
}

function modelOf(body: ChatRequestBody): string {
  return typeof body.model === 'string' ? body.model : 'unknown';
}
