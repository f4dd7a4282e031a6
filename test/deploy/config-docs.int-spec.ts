import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { schemaVariables } from '../support/config-schema';

/** The configuration reference and .env.example are checked against the schema, so a new variable cannot go unsaid. */
const read = (path: string) => readFileSync(resolve(process.cwd(), path), 'utf8');
const VARIABLES = schemaVariables();

/** Every `NAME` in backticks in the first column of the README's configuration table. */
function readmeVariables(): Set<string> {
  const readme = read('README.md');
  const section = readme.slice(
    readme.indexOf('## Configuration'),
    readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1),
  );
  const names = section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .flatMap((line) => [...line.split('|')[1].matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]));
  return new Set(names);
}

describe('configuration reference', () => {
  it('should document every schema variable in the README configuration table', () => {
    const documented = readmeVariables();
    expect(VARIABLES.filter((name) => !documented.has(name))).toEqual([]);
    // And nothing that the schema does not read (a renamed or removed variable).
    expect([...documented].filter((name) => !VARIABLES.includes(name))).toEqual([]);
  });

  it('should list every schema variable in .env.example (set or commented out)', () => {
    const example = read('.env.example');
    const listed = new Set([...example.matchAll(/^#? ?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
    expect(VARIABLES.filter((name) => !listed.has(name))).toEqual([]);
  });
});
