import { APIError } from 'openai';
import type { ModelQuirks } from './known-models';
import type { CompletionRequest } from './model-provider';

/** The chat-completions body fields we may send that some models reject. */
export type AdaptableParam = 'temperature' | 'top_p' | 'max_tokens' | 'max_completion_tokens' | 'stream_options';

const ADAPTABLE: readonly AdaptableParam[] = [
  'max_completion_tokens',
  'max_tokens',
  'temperature',
  'top_p',
  'stream_options',
];

export interface ChatBody {
  model: string;
  messages: Array<{ role: 'system' | 'developer' | 'user' | 'assistant'; content: string }>;
  stream: true;
  stream_options?: { include_usage: boolean };
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
  stop?: string[];
}

/**
 * The streaming request body for a model with these quirks: the reply limit under the field it takes, no sampling
 * parameter it rejects, the system prompt in the role it wants. `rejected` holds what the upstream refused before.
 */
export function chatBody(
  request: CompletionRequest,
  model: string,
  quirks: ModelQuirks,
  rejected: ReadonlySet<AdaptableParam> = new Set(),
): ChatBody {
  const body: ChatBody = {
    model,
    messages: request.messages.map((m) => ({
      role: m.role === 'system' ? quirks.systemRole : m.role,
      content: m.content,
    })),
    stream: true,
  };
  if (!rejected.has('stream_options')) {
    body.stream_options = { include_usage: true };
  }
  const unsupported = new Set<string>(quirks.unsupportedParams);
  if (request.temperature !== undefined && !unsupported.has('temperature') && !rejected.has('temperature')) {
    body.temperature = request.temperature;
  }
  if (request.topP !== undefined && !unsupported.has('top_p') && !rejected.has('top_p')) {
    body.top_p = request.topP;
  }
  if (request.maxTokens !== undefined) {
    body[limitField(quirks.tokenLimitParam, rejected)] = request.maxTokens;
  }
  if (request.stop !== undefined && request.stop.length > 0) {
    body.stop = request.stop;
  }
  return body;
}

/** The limit field to use: the model's, or the other one once the model refused it. */
function limitField(
  preferred: ModelQuirks['tokenLimitParam'],
  rejected: ReadonlySet<AdaptableParam>,
): 'max_tokens' | 'max_completion_tokens' {
  const other = preferred === 'max_tokens' ? 'max_completion_tokens' : 'max_tokens';
  return rejected.has(preferred) && !rejected.has(other) ? other : preferred;
}

const REFUSAL =
  /unsupported|not supported|unrecognized|unknown|not allowed|not permitted|invalid|extra (inputs|fields)/i;

/**
 * The parameter an upstream 400 refuses, when it is one we sent and can do without: OpenAI names it in `param`
 * (`unsupported_parameter`, `unsupported_value`); other servers only in the message.
 */
export function refusedParam(err: unknown, body: ChatBody): AdaptableParam | null {
  if (!(err instanceof APIError) || err.status !== 400) {
    return null;
  }
  const sent = ADAPTABLE.filter((p) => body[p] !== undefined);
  const param = typeof err.param === 'string' ? err.param : null;
  if (param && (sent as string[]).includes(param)) {
    return param as AdaptableParam;
  }
  const message = typeof err.error === 'object' && err.error !== null ? messageOf(err.error) : err.message;
  if (!REFUSAL.test(message)) {
    return null;
  }
  // The first parameter the message names (max_completion_tokens before max_tokens: one contains the other).
  return sent.find((p) => new RegExp(`(^|[^a-z_])${p}([^a-z_]|$)`, 'i').test(message)) ?? null;
}

function messageOf(error: object): string {
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' ? message : '';
}
