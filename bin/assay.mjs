#!/usr/bin/env node
// The `assay` command. It runs dist/cli.mjs (built by `npm ci` or `npm run build`) while that
// bundle is newer than every file under src/; otherwise, e.g. while you edit, it runs the
// TypeScript sources through tsx. Both are the same code: the bundle is only faster to load.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bundle = join(root, 'dist', 'cli.mjs');

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function bundleIsFresh() {
  if (process.env.ASSAY_FROM_SOURCE === '1') return false;
  try {
    return (
      statSync(bundle).mtimeMs >=
      Math.max(newestSource(join(root, 'src')), statSync(join(root, 'package.json')).mtimeMs)
    );
  } catch {
    return false;
  }
}

if (bundleIsFresh()) {
  const { main } = await import(bundle);
  await main(process.argv);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../src/cli.ts');
  await main(process.argv);
}
