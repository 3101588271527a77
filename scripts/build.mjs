// Bundles src/ into dist/cli.mjs (dependencies stay in node_modules). Starting from the bundle
// skips the TypeScript loader, which is most of the start-up time; bin/assay.mjs uses it only
// while it is newer than every source file, and runs the sources through tsx otherwise.
import { build } from 'esbuild';

export async function buildBundle() {
  await build({
    entryPoints: [new URL('../src/cli.ts', import.meta.url).pathname],
    outfile: new URL('../dist/cli.mjs', import.meta.url).pathname,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
  });
}

if (import.meta.url === `file://${process.argv[1]}`) await buildBundle();
