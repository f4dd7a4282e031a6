import fs from 'node:fs';

/**
 * Captures everything the process writes to stdout and stderr while `run` runs: pino writes through sonic-boom
 * (fs.write / fs.writeSync on fd 1), Nest's console logger and others through process.stdout.write.
 */
export async function captureOutput(run: () => Promise<void>): Promise<string> {
  const chunks: string[] = [];
  const text = (data: unknown) => (typeof data === 'string' ? data : Buffer.from(data as Uint8Array).toString('utf8'));
  const original = {
    write: fs.write,
    writeSync: fs.writeSync,
    stdout: process.stdout.write,
    stderr: process.stderr.write,
  };
  const mutableFs = fs as unknown as Record<string, unknown>;
  mutableFs.writeSync = (fd: number, data: unknown, ...rest: unknown[]) => {
    if (fd === 1 || fd === 2) {
      chunks.push(text(data));
      return Buffer.byteLength(text(data));
    }
    return (original.writeSync as (...args: unknown[]) => number)(fd, data, ...rest);
  };
  mutableFs.write = (fd: number, data: unknown, ...rest: unknown[]) => {
    if (fd === 1 || fd === 2) {
      chunks.push(text(data));
      const callback = rest.find((arg) => typeof arg === 'function') as (err: null, n: number) => void;
      process.nextTick(() => callback(null, Buffer.byteLength(text(data))));
      return undefined;
    }
    return (original.write as (...args: unknown[]) => unknown)(fd, data, ...rest);
  };
  const capture = (chunk: unknown, ...rest: unknown[]) => {
    chunks.push(text(chunk));
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  };
  process.stdout.write = capture as typeof process.stdout.write;
  process.stderr.write = capture as typeof process.stderr.write;
  try {
    await run();
  } finally {
    mutableFs.write = original.write;
    mutableFs.writeSync = original.writeSync;
    process.stdout.write = original.stdout;
    process.stderr.write = original.stderr;
  }
  return chunks.join('');
}
