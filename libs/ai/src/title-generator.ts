import type { TokenUsage } from '@app/persistence';
import type { ModelProvider } from './model-provider';

export const TITLE_MAX_LENGTH = 60;
export const TITLE_TIMEOUT_MS = 10_000;
const FALLBACK_WORDS = 6;
const EXCERPT_CHARS = 1_000;
/** A new thread's title until its first exchange names it (and the fallback of a failed name). */
export const DEFAULT_TITLE = 'New chat';

const INSTRUCTION =
  'You name conversations. Reply with a short title (at most 6 words) for the conversation below, ' +
  'in its language, with no quotes and no trailing punctuation. Reply with the title only.';

/**
 * A short title for a new thread from its first exchange: one small model call (at most `timeoutMs`), and on any
 * failure, an empty answer or with the demo provider, the first words of the user's message. Never throws.
 */
export async function generateTitle(
  provider: ModelProvider,
  model: string,
  firstUserText: string,
  firstReplyText: string,
  signal: AbortSignal,
  options: {
    timeoutMs?: number;
    /** The title's reply budget (default 24 tokens). */
    maxTokens?: number;
    /** Called with the tokens the call spent, when the provider reports them (so that they can be counted). */
    onUsage?: (usage: TokenUsage) => void;
  } = {},
): Promise<string> {
  const fallback = fallbackTitle(firstUserText);
  if (provider.demo || signal.aborted) {
    return fallback;
  }
  try {
    let text = '';
    const events = provider.stream({
      model,
      messages: [
        { role: 'system', content: INSTRUCTION },
        {
          role: 'user',
          content: `User: ${excerpt(firstUserText)}\n\nAssistant: ${excerpt(firstReplyText)}`,
        },
      ],
      temperature: 0.2,
      maxTokens: Math.min(24, options.maxTokens ?? 24),
      signal: AbortSignal.any([signal, AbortSignal.timeout(options.timeoutMs ?? TITLE_TIMEOUT_MS)]),
    });
    for await (const event of events) {
      if (event.type === 'usage') {
        options.onUsage?.(event.usage);
      } else if (event.type === 'delta') {
        text += event.text;
        if (text.length > EXCERPT_CHARS) {
          break;
        }
      }
    }
    return cleanTitle(text) || fallback;
  } catch {
    // A title is a nicety: the thread keeps the fallback and the failure was already logged by the provider.
    return fallback;
  }
}

/** The first words of the user's message (at most 6, at most 60 characters), or "New chat". */
export function fallbackTitle(firstUserText: string): string {
  const words = sanitize(firstUserText).split(' ').filter(Boolean).slice(0, FALLBACK_WORDS);
  return clip(words.join(' ')) || DEFAULT_TITLE;
}

/** A model's answer made into a title: first line, no label, quotes or trailing punctuation, at most 60 chars. */
export function cleanTitle(raw: string): string {
  const firstLine =
    raw
      .split(/\r?\n/)
      .map((l) => l.trim())
      .find(Boolean) ?? '';
  const unlabelled = firstLine.replace(/^(\*\*)?title(\*\*)?\s*:\s*/i, '');
  const cleaned = sanitize(unlabelled)
    .replace(/^[\s#*_`~-]+|[\s*_`~]+$/g, '')
    .replace(/[.!,;:]+$/, '')
    .trim();
  return clip(cleaned);
}

/** One line, no double quotes; single quotes only inside words (apostrophes). */
function sanitize(text: string): string {
  return text
    .replace(/["“”«»„`]/g, '')
    .replace(/\s+/g, ' ')
    .split(' ')
    .map((word) => word.replace(/^['‘’]+/, '').replace(/['‘’]+(?=[.,!?;:]*$)/, ''))
    .join(' ')
    .trim();
}

function clip(text: string): string {
  if (text.length <= TITLE_MAX_LENGTH) {
    return text;
  }
  const cut = text.slice(0, TITLE_MAX_LENGTH + 1);
  const space = cut.lastIndexOf(' ');
  const clipped = space > TITLE_MAX_LENGTH / 2 ? cut.slice(0, space) : text.slice(0, TITLE_MAX_LENGTH);
  // Never end on half a surrogate pair.
  return clipped.replace(/[\uD800-\uDBFF]$/, '').trim();
}

function excerpt(text: string): string {
  return text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)} …` : text;
}
