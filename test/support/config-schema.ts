import { ConfigError, loadConfig, parseDuration } from '@app/common';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Every environment variable the configuration schema reads (with `given` set, e.g. `{ PROVIDERS: 'a,b' }`), found by running `loadConfig` over an environment
 * that records each name asked for: the schema itself is the list, so documents checked against it cannot drift.
 */
export function schemaVariables(given: Record<string, string> = {}): string[] {
  const read = new Set<string>();
  const base: Record<string, string> = {
    DATA_DIR: mkdtempSync(join(tmpdir(), 'confab-schema-')),
    JWT_SECRET: 's'.repeat(40),
    // e.g. PROVIDERS, whose names make the schema read <NAME>_BASE_URL, <NAME>_API_KEY...
    ...given,
  };
  const env = new Proxy(base, {
    get(target, name) {
      if (typeof name === 'string') {
        read.add(name);
      }
      return typeof name === 'string' ? target[name] : undefined;
    },
  });
  try {
    loadConfig(env);
  } catch (err) {
    // Problems with the values do not matter here: every name was read before they were reported.
    if (!(err instanceof ConfigError)) {
      throw err;
    }
  }
  return [...read].sort();
}

/** The variables production cannot start without (from the schema's own "is required" problems). */
export function requiredInProduction(): string[] {
  try {
    loadConfig({ NODE_ENV: 'production', DATA_DIR: mkdtempSync(join(tmpdir(), 'confab-schema-')) });
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) {
      throw err;
    }
    return err.problems.flatMap((p) => /^([A-Z][A-Z0-9_]*) is required/.exec(p)?.[1] ?? []);
  }
}

/** Names whose values are credentials: never written in plain text in a deployment file. */
export function isSecretName(name: string): boolean {
  return /(SECRET|TOKEN|PASSWORD|API_KEY)$/.test(name);
}

/** Connection strings are secrets too when they carry a password (`scheme://user:pass@host`). */
export function hasCredentials(value: string): boolean {
  return /^[a-z+]+:\/\/[^/@\s]*:[^/@\s]*@/i.test(value);
}

export function durationMs(value: string): number {
  const ms = parseDuration(value);
  if (ms === null) {
    throw new Error(`not a duration: ${value}`);
  }
  return ms;
}
