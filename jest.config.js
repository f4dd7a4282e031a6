// One jest run, three projects: unit (pure logic), integration (repositories on real databases),
// e2e (a started server over real HTTP and Socket.IO). `npm test` runs them all.
// Nest 12 ships as ES modules only, so jest runs in its native ESM mode (--experimental-vm-modules) and swc
// compiles our TypeScript to ES modules for it; the production build stays CommonJS (Node's require(esm)).
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  },
];
const libs = ['common', 'persistence', 'auth', 'ai', 'chat', 'gateway', 'openai-api'];
const moduleNameMapper = Object.fromEntries(
  libs.flatMap((l) => [
    [`^@app/${l}$`, `<rootDir>/libs/${l}/src`],
    [`^@app/${l}/(.*)$`, `<rootDir>/libs/${l}/src/$1`],
  ]),
);
const base = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swc },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper,
  extensionsToTreatAsEsm: ['.ts'],
};
module.exports = {
  // testTimeout is a global option (jest ignores it inside a project): end-to-end tests start real servers, and a
  // busy 2-core machine needs more than jest's 5 s default for that.
  testTimeout: 20_000,
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts'] },
    { ...base, displayName: 'integration', testMatch: ['<rootDir>/{apps,libs,test}/**/*.int-spec.ts'] },
    { ...base, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'] },
    // The built web app in Debian's Chromium (playwright-core) against a started server and the fake upstream
    // (its tests pass their own timeouts: BROWSER_TIMEOUT_MS).
    { ...base, displayName: 'browser', testMatch: ['<rootDir>/test/browser/**/*.browser-spec.ts'] },
  ],
};
