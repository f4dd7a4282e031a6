import type { ChatTurn } from '@app/ai';
import { AppError, type ErrorDetail } from '@app/common';
import type { ChatCompletionRequestDto } from '../dto/chat-completion-request.dto';

/** What confab takes from an OpenAI request, in the pipeline's terms. */
export interface CompletionRequestInput {
  model: string;
  turns: ChatTurn[];
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  stop?: string[];
  stream: boolean;
  includeUsage: boolean;
}

const MAX_STOP_SEQUENCES = 4;

/** Fields that would change the answer's meaning if ignored, refused with a message naming them. */
const UNSUPPORTED: (keyof ChatCompletionRequestDto)[] = [
  'tools',
  'tool_choice',
  'functions',
  'function_call',
  'audio',
  'prediction',
  'web_search_options',
];

/** Turns a validated request body into the pipeline's input; `validation_failed` with one detail per problem. */
export function translateRequest(dto: ChatCompletionRequestDto): CompletionRequestInput {
  const problems: ErrorDetail[] = [];
  for (const field of UNSUPPORTED) {
    const value = dto[field];
    if (value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0)) {
      problems.push({ field, message: `${field} is not supported by this server` });
    }
  }
  if (dto.n !== undefined && dto.n !== 1) {
    problems.push({ field: 'n', message: 'n: only one choice per request is supported' });
  }
  if (dto.logprobs === true) {
    problems.push({ field: 'logprobs', message: 'logprobs are not supported by this server' });
  }
  if (dto.response_format && dto.response_format.type !== 'text') {
    problems.push({ field: 'response_format', message: 'response_format: only {"type": "text"} is supported' });
  }
  if (dto.modalities && !(dto.modalities.length === 1 && dto.modalities[0] === 'text')) {
    problems.push({ field: 'modalities', message: 'modalities: only ["text"] is supported' });
  }
  const stop = stopSequences(dto.stop, problems);
  const turns = dto.messages.map((message, i) => toTurn(message, i, problems));
  if (problems.length > 0) {
    throw AppError.validation(problems);
  }
  return {
    model: dto.model,
    turns: turns as ChatTurn[],
    temperature: dto.temperature,
    topP: dto.top_p,
    maxTokens: dto.max_completion_tokens ?? dto.max_tokens,
    stop,
    stream: dto.stream === true,
    includeUsage: dto.stream === true && dto.stream_options?.include_usage === true,
  };
}

function stopSequences(stop: unknown, problems: ErrorDetail[]): string[] | undefined {
  if (stop === undefined || stop === null) {
    return undefined;
  }
  const list = typeof stop === 'string' ? [stop] : stop;
  if (
    !Array.isArray(list) ||
    list.length > MAX_STOP_SEQUENCES ||
    !list.every((s): s is string => typeof s === 'string' && s.length > 0 && s.length <= 200)
  ) {
    problems.push({ field: 'stop', message: `stop must be a string or up to ${MAX_STOP_SEQUENCES} strings` });
    return undefined;
  }
  return list.length > 0 ? list : undefined;
}

function toTurn(message: unknown, i: number, problems: ErrorDetail[]): ChatTurn | null {
  const at = `messages[${i}]`;
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    problems.push({ field: at, message: `${at} must be an object` });
    return null;
  }
  const { role, content, tool_calls: toolCalls } = message as Record<string, unknown>;
  if (role === 'tool' || role === 'function') {
    problems.push({ field: `${at}.role`, message: `${at}.role: tool messages are not supported by this server` });
    return null;
  }
  if (role !== 'system' && role !== 'developer' && role !== 'user' && role !== 'assistant') {
    problems.push({ field: `${at}.role`, message: `${at}.role must be system, developer, user or assistant` });
    return null;
  }
  if (Array.isArray(toolCalls) && toolCalls.length > 0) {
    problems.push({ field: `${at}.tool_calls`, message: `${at}.tool_calls: tool calls are not supported` });
    return null;
  }
  const text = contentText(content, `${at}.content`, problems);
  if (text === null) {
    return null;
  }
  // OpenAI's `developer` role is the newer name of `system` for the same instructions.
  return { role: role === 'developer' ? 'system' : role, content: text };
}

/** A string, or text parts joined (images, audio and files are refused: the pipeline carries text only). */
function contentText(content: unknown, at: string, problems: ErrorDetail[]): string | null {
  if (typeof content === 'string') {
    return content;
  }
  if (Array.isArray(content)) {
    const texts = content.map((part: unknown) =>
      typeof part === 'object' &&
      part !== null &&
      (part as { type?: unknown }).type === 'text' &&
      typeof (part as { text?: unknown }).text === 'string'
        ? (part as { text: string }).text
        : null,
    );
    if (texts.every((t): t is string => t !== null)) {
      return texts.join('');
    }
    problems.push({ field: at, message: `${at}: only text content parts are supported` });
    return null;
  }
  problems.push({ field: at, message: `${at} must be a string or an array of text parts` });
  return null;
}
