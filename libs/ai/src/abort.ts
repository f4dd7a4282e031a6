/** Thrown by a provider's stream when the caller's `AbortSignal` aborted it (the contract's `name === 'AbortError'`). */
export class AbortError extends Error {
  constructor(message = 'The generation was aborted') {
    super(message);
    this.name = 'AbortError';
  }
}

/** Waits `ms`, or rejects with an `AbortError` as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortError());
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
