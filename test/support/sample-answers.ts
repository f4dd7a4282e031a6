/** Markdown answers the fake upstream streams in browser tests and the web benchmark. */

export const CODE_ANSWER = [
  '## Debouncing a search box',
  '',
  'A **debounce** waits until the input has been quiet for a moment before it acts, so a request is sent once the person pauses typing, not on every key.',
  '',
  '```typescript',
  'export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number) {',
  '  let timer: ReturnType<typeof setTimeout> | undefined;',
  '  return (...args: A) => {',
  '    clearTimeout(timer);',
  '    timer = setTimeout(() => fn(...args), ms);',
  '  };',
  '}',
  '```',
  '',
  'Use it like this:',
  '',
  '1. Create the debounced function **once**, outside the render.',
  '2. Call it from the `input` handler.',
  '3. Cancel pending calls when the component unmounts.',
  '',
  '```python',
  'import asyncio',
  '',
  'async def search(query: str) -> list[str]:',
  '    await asyncio.sleep(0.25)  # the pause',
  '    return [hit for hit in INDEX if query.lower() in hit.lower()]',
  '```',
  '',
  '| approach | requests per word | feels |',
  '|---|---|---|',
  '| every key | 6 | busy |',
  '| debounced | 1 | calm |',
  '',
  '> Tip: 200–300 ms is a good delay for search as you type.',
].join('\n');

/** Splits text into stream tokens of a few characters, the way models send them. */
export function tokensOf(text: string, size = 6): string[] {
  const tokens: string[] = [];
  for (let i = 0; i < text.length; i += size) {
    tokens.push(text.slice(i, i + size));
  }
  return tokens;
}

/** A long Markdown answer with code, about `kb` kilobytes. */
export function longAnswer(kb = 20): string {
  const parts: string[] = [];
  let i = 0;
  while (parts.join('\n\n').length < kb * 1024) {
    i += 1;
    parts.push(`### Part ${i}`, CODE_ANSWER.split('\n').slice(2).join('\n'));
  }
  return parts.join('\n\n');
}
