import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { FIRST_LOAD_BUDGET_BYTES, firstLoadOf } from './build/first-load';

const root = fileURLToPath(new URL('.', import.meta.url));
const outDir = fileURLToPath(new URL('./dist', import.meta.url));

/** Prints the first-load JavaScript figure after every build, so a regression is seen where it is made. */
function firstLoadReport(): Plugin {
  return {
    name: 'confab-first-load',
    apply: 'build',
    closeBundle() {
      const { gzipBytes, bytes, files } = firstLoadOf(outDir);
      const kb = (n: number) => `${(n / 1024).toFixed(1)} kB`;
      const verdict = gzipBytes <= FIRST_LOAD_BUDGET_BYTES ? 'within' : 'OVER';
      console.log(
        `first-load JS: ${kb(gzipBytes)} gzip (${kb(bytes)} raw, ${files.length} files), ${verdict} the ${kb(FIRST_LOAD_BUDGET_BYTES)} budget`,
      );
    },
  };
}

export default defineConfig({
  root,
  base: '/',
  plugins: [firstLoadReport()],
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir,
    emptyOutDir: true,
    manifest: true,
    target: 'es2022',
    sourcemap: false,
    // CSP forbids inline scripts: never inline the module preload polyfill or small assets as data: scripts.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    rolldownOptions: {
      onwarn(warning, warn) {
        // React Server Components markers ("use client") mean nothing in a client-only bundle.
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') {
          warn(warning);
        }
      },
    },
  },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:3000',
      '/socket.io': { target: 'ws://127.0.0.1:3000', ws: true },
    },
  },
});
