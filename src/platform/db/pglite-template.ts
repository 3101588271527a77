import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cp, mkdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { PACKAGE_ROOT } from '../paths.ts';

const run = promisify(execFile);

/**
 * Creating a PGlite cluster runs initdb inside WASM, which takes seconds. A freshly initialised,
 * empty cluster is the same every time, so it is made once (at `npm ci`, by the postinstall
 * script) and copied into each new DATA_DIR, with the migrations already applied. Its name
 * carries a fingerprint of the migrations, so a checkout with other migrations makes its own.
 */
const packageRoot = PACKAGE_ROOT;
const MIGRATIONS_FOLDER = join(packageRoot, 'drizzle');

function pgliteVersion(): string {
  // The package's exports hide its package.json, so find it next to its resolved entry point.
  let dir = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string })
    .version;
}

/** The migrations it holds, by content: a template made from other migrations is never used. */
function migrationsFingerprint(): string {
  const hash = createHash('sha256');
  const files = existsSync(MIGRATIONS_FOLDER)
    ? readdirSync(MIGRATIONS_FOLDER)
        .filter((name) => name.endsWith('.sql'))
        .sort()
    : [];
  for (const name of files) hash.update(name).update(readFileSync(join(MIGRATIONS_FOLDER, name)));
  return hash.digest('hex').slice(0, 12);
}

export const TEMPLATE_DIR = join(
  packageRoot,
  'node_modules',
  '.cache',
  'assay',
  `pglite-${pgliteVersion()}-${migrationsFingerprint()}`,
);

/** A data directory that has never held a cluster. */
export const isEmptyDataDir = (dataDir: string) => !existsSync(join(dataDir, 'PG_VERSION'));

/** Copies the empty cluster into `dataDir`; false when there is no template (the caller runs initdb). */
export async function copyTemplateInto(dataDir: string): Promise<boolean> {
  if (!existsSync(join(TEMPLATE_DIR, 'PG_VERSION'))) return false;
  await mkdir(dataDir, { recursive: true });
  try {
    // The system cp is several times faster than fs.cp on a thousand small files.
    await run('cp', ['-a', `${TEMPLATE_DIR}/.`, dataDir]);
  } catch {
    await cp(TEMPLATE_DIR, dataDir, { recursive: true, force: false, errorOnExist: false });
  }
  return true;
}

/** Builds the template if it is missing. Built aside and renamed, so a reader never sees half of one. */
export async function ensureTemplate(): Promise<'exists' | 'created'> {
  if (existsSync(join(TEMPLATE_DIR, 'PG_VERSION'))) return 'exists';
  const partial = `${TEMPLATE_DIR}.${process.pid}.partial`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(dirname(partial), { recursive: true });
  const client = await PGlite.create({ dataDir: partial });
  try {
    // Migrations of this install go in too: forward-only and never edited once landed, so a
    // cluster made from the template only ever needs the migrations added after it.
    await migrate(drizzle(client), { migrationsFolder: MIGRATIONS_FOLDER });
  } finally {
    await client.close();
  }
  try {
    await rename(partial, TEMPLATE_DIR);
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    if (!existsSync(join(TEMPLATE_DIR, 'PG_VERSION'))) throw error;
  }
  return 'created';
}
