// Runs after `npm ci`: prepares the PGlite cluster that new DATA_DIRs start from (so the first
// `npm start` skips initdb) and bundles the sources (so no start pays for the TypeScript loader).
// Failure here is never fatal: Assay then does both the slow way.
try {
  const { register } = await import('tsx/esm/api');
  register();
  const { ensureTemplate } = await import('../src/platform/db/pglite-template.ts');
  const outcome = await ensureTemplate();
  if (outcome === 'created')
    process.stdout.write('assay: prepared the embedded database template\n');
} catch (error) {
  process.stderr.write(
    `assay: skipped preparing the embedded database template (${error?.message ?? error})\n`,
  );
}
try {
  const { buildBundle } = await import('./build.mjs');
  await buildBundle();
  process.stdout.write('assay: bundled the sources into dist/\n');
} catch (error) {
  process.stderr.write(
    `assay: skipped bundling (${error?.message ?? error}); sources will run through tsx\n`,
  );
}
