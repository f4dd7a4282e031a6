import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** The most JavaScript a first visit may download, gzip-compressed as the server sends it. */
export const FIRST_LOAD_BUDGET_BYTES = 200 * 1024;

interface ManifestChunk {
  file: string;
  isEntry?: boolean;
  imports?: string[];
}

export interface FirstLoad {
  files: string[];
  bytes: number;
  gzipBytes: number;
}

/**
 * The JavaScript a browser fetches before the app can run: the entry chunk and everything it imports statically,
 * read from Vite's build manifest. Lazily imported chunks (highlight languages, later pages) are not counted.
 */
export function firstLoadOf(distDir: string): FirstLoad {
  const manifest = JSON.parse(readFileSync(join(distDir, '.vite/manifest.json'), 'utf8')) as Record<
    string,
    ManifestChunk
  >;
  const seen = new Set<string>();
  const visit = (key: string) => {
    if (seen.has(key) || !manifest[key]) {
      return;
    }
    seen.add(key);
    manifest[key].imports?.forEach(visit);
  };
  Object.entries(manifest)
    .filter(([, chunk]) => chunk.isEntry)
    .forEach(([key]) => visit(key));
  const files = [...seen].map((key) => manifest[key].file).filter((f) => f.endsWith('.js'));
  let bytes = 0;
  let gzipBytes = 0;
  for (const file of files) {
    const content = readFileSync(join(distDir, file));
    bytes += content.length;
    gzipBytes += gzipSync(content).length;
  }
  return { files, bytes, gzipBytes };
}
