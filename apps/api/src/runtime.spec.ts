import { readFileSync } from 'node:fs';

// The suite runs on the Node that CI and users run: 22.12+ (24 recommended). `.ci/run` sources
// scripts/ensure-node.sh, which brings Node 24 where the machine's is older; this prints which one ran.
describe('runtime', () => {
  it('should run on a Node that package.json engines accepts', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } };
    const [, wantMajor, wantMinor] = /^>=(\d+)\.(\d+)$/.exec(pkg.engines.node) ?? [];
    const [major, minor] = process.versions.node.split('.').map(Number);
    console.info(`runtime: node ${process.version} (engines ${pkg.engines.node})`);
    expect(Number(wantMajor)).toBeGreaterThanOrEqual(22);
    expect(major > Number(wantMajor) || (major === Number(wantMajor) && minor >= Number(wantMinor))).toBe(true);
  });
});
