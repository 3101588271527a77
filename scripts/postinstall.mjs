// Runs after `npm ci`: prepares the empty PGlite cluster that new DATA_DIRs start from, so the
// first `npm start` does not spend seconds in initdb. Failure here is never fatal.
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
