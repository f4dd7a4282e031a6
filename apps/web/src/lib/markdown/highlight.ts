import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import python from 'highlight.js/lib/languages/python';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';

// The languages most answers use come with the app; the rest load on first use.
hljs.registerLanguage('javascript', javascript);
hljs.registerLanguage('typescript', typescript);
hljs.registerLanguage('python', python);
hljs.registerLanguage('bash', bash);
hljs.registerLanguage('json', json);
hljs.registerLanguage('xml', xml);

type Loader = () => Promise<{ default: Parameters<typeof hljs.registerLanguage>[1] }>;

const LAZY: Record<string, Loader> = {
  c: () => import('highlight.js/lib/languages/c'),
  cpp: () => import('highlight.js/lib/languages/cpp'),
  csharp: () => import('highlight.js/lib/languages/csharp'),
  css: () => import('highlight.js/lib/languages/css'),
  diff: () => import('highlight.js/lib/languages/diff'),
  dockerfile: () => import('highlight.js/lib/languages/dockerfile'),
  go: () => import('highlight.js/lib/languages/go'),
  ini: () => import('highlight.js/lib/languages/ini'),
  java: () => import('highlight.js/lib/languages/java'),
  kotlin: () => import('highlight.js/lib/languages/kotlin'),
  lua: () => import('highlight.js/lib/languages/lua'),
  makefile: () => import('highlight.js/lib/languages/makefile'),
  markdown: () => import('highlight.js/lib/languages/markdown'),
  php: () => import('highlight.js/lib/languages/php'),
  ruby: () => import('highlight.js/lib/languages/ruby'),
  rust: () => import('highlight.js/lib/languages/rust'),
  scss: () => import('highlight.js/lib/languages/scss'),
  shell: () => import('highlight.js/lib/languages/shell'),
  sql: () => import('highlight.js/lib/languages/sql'),
  swift: () => import('highlight.js/lib/languages/swift'),
  yaml: () => import('highlight.js/lib/languages/yaml'),
};

const ALIASES: Record<string, string> = {
  'c++': 'cpp',
  'c#': 'csharp',
  cs: 'csharp',
  docker: 'dockerfile',
  golang: 'go',
  h: 'c',
  hpp: 'cpp',
  kt: 'kotlin',
  md: 'markdown',
  rb: 'ruby',
  rs: 'rust',
  toml: 'ini',
  yml: 'yaml',
  console: 'shell',
};

const loading = new Map<string, Promise<void>>();
const listeners = new Set<() => void>();
let version = 0;

/** Bumped whenever a language finishes loading, so rendered blocks can highlight again. */
export const highlightVersion = {
  get: () => version,
  subscribe: (fn: () => void) => {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },
};

function load(name: string): void {
  const loader = LAZY[name];
  if (!loader || loading.has(name)) {
    return;
  }
  loading.set(
    name,
    loader()
      .then((mod) => {
        hljs.registerLanguage(name, mod.default);
        version++;
        listeners.forEach((fn) => fn());
      })
      .catch(() => undefined),
  );
}

/** Highlighted HTML for the code, or null when the language is unknown or still loading (then it starts loading). */
export function highlight(code: string, lang: string): string | null {
  const wanted = lang.toLowerCase();
  if (!wanted) {
    return null;
  }
  if (hljs.getLanguage(wanted)) {
    return hljs.highlight(code, { language: wanted, ignoreIllegals: true }).value;
  }
  load(ALIASES[wanted] ?? wanted);
  return null;
}
