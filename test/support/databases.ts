import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { inject } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../../src/platform/db/database.ts';
import { createLogger } from '../../src/platform/logger/logger.ts';

const run = promisify(execFile);
const silent = createLogger({ level: 'silent' });

export type DatabaseKind = 'pglite' | 'postgres';

/** PGlite always; real PostgreSQL too when DATABASE_URL is set. */
export function databaseKinds(): DatabaseKind[] {
  return inject('postgresTemplate') ? ['pglite', 'postgres'] : ['pglite'];
}

export type TestDatabase = DatabaseHandle & {
  /** For tests that open the same database from another process or through a proxy. */
  location: { kind: 'pglite'; dataDir: string } | { kind: 'postgres'; url: string };
  destroy(): Promise<void>;
};

/** A fresh, migrated database of its own for one test (or one file). */
export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === 'pglite') {
    const dataDir = await mkdtemp(join(tmpdir(), 'assay-db-'));
    await run('cp', ['-a', `${inject('pgliteTemplateDir')}/.`, dataDir]);
    const handle = await openDatabase({ kind: 'pglite', dataDir, logger: silent });
    return {
      ...handle,
      location: { kind: 'pglite', dataDir },
      destroy: async () => {
        await handle.close().catch(() => {});
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  }
  const template = inject('postgresTemplate');
  if (!template) throw new Error('DATABASE_URL is not set');
  const name = `assay_test_${template.runId}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: template.adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name} template ${template.name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(template.adminUrl);
  url.pathname = `/${name}`;
  const handle = await openDatabase({
    kind: 'postgres',
    url: url.toString(),
    poolMax: 5,
    logger: silent,
  });
  return {
    ...handle,
    location: { kind: 'postgres', url: url.toString() },
    destroy: async () => {
      await handle.close().catch(() => {});
      const cleanup = new pg.Client({ connectionString: template.adminUrl });
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    },
  };
}
