#!/usr/bin/env node
// npm records only the platform packages its registry mirror offers (npm/cli#4828), yet `npm ci` insists that every
// optional dependency declared in package-lock.json has an entry of its own. Run this after `npm install` changes
// the lockfile: it adds a minimal entry (version, os, cpu, libc) for each missing platform package. `npm ci` skips
// them on other platforms, so they are never downloaded here.
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const packages = lock.packages;
const OSES = ['darwin', 'linux', 'win32', 'android', 'freebsd', 'openharmony'];
const CPUS = ['arm64', 'x64', 'ia32', 'arm', 'ppc64', 's390x', 'loong64', 'riscv64'];
let added = 0;
for (const [key, meta] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(meta.optionalDependencies ?? {})) {
    if (packages[`node_modules/${name}`] || packages[`${key}/node_modules/${name}`]) {
      continue;
    }
    const parts = name.split(/[-/]/);
    const os = OSES.filter((o) => parts.includes(o));
    const cpu = CPUS.filter((c) => parts.includes(c));
    if (os.length !== 1 || cpu.length !== 1) {
      throw new Error(`cannot tell the platform of ${name}; add its entry by hand`);
    }
    const entry = { version, cpu };
    if (meta.dev) {
      entry.dev = true;
    }
    if (/musl/.test(name)) {
      entry.libc = ['musl'];
    } else if (/-gnu|gnueabihf/.test(name)) {
      entry.libc = ['glibc'];
    }
    Object.assign(entry, { optional: true, os });
    packages[`node_modules/${name}`] = entry;
    added += 1;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)),
);
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} platform entries`);
