import type { ModelSpec } from './app-config';

/** Parses a comma-separated `id` or `id:contextWindow` list (MODELS, `<NAME>_MODELS`); null when empty. */
export function parseModelSpecs(name: string, raw: string | undefined, problems: string[]): ModelSpec[] | null {
  if (raw === undefined) {
    return null;
  }
  const specs: ModelSpec[] = [];
  for (const part of raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    // Ids may hold colons (Ollama's llama3.1:8b, OpenRouter's :free); only a trailing :<digits> is the window.
    const match = /^(\S+?)(?::(\d+))?$/.exec(part);
    if (!match || (match[2] !== undefined && Number(match[2]) < 256)) {
      problems.push(`${name} entries must be "id" or "id:contextWindow" with a window of at least 256 (got "${part}")`);
      continue;
    }
    specs.push({ id: match[1], contextWindow: match[2] === undefined ? undefined : Number(match[2]) });
  }
  return specs.length > 0 ? specs : null;
}
