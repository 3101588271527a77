import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import type { Logger } from '../logger/logger.ts';
import { PACKAGE_ROOT } from '../paths.ts';
import { copyTemplateInto, ensureTemplate, isEmptyDataDir } from './pglite-template.ts';

export type Database = PgDatabase<PgQueryResultHKT>;
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];
/** Repositories accept either, so a service can put several writes in one transaction. */
export type Executor = Database | Transaction;

export type DatabaseHandle = {
  kind: 'pglite' | 'postgres';
  db: Database;
  /** Throws when the database does not answer. */
  ping(): Promise<void>;
  migrate(): Promise<void>;
  close(): Promise<void>;
};

export const MIGRATIONS_FOLDER = join(PACKAGE_ROOT, 'drizzle');

/** Any constant works as long as every Assay process uses the same one. */
const MIGRATION_LOCK_KEY = 727_001;

export type DatabaseOptions =
  | { kind: 'postgres'; url: string; poolMax: number; logger: Logger }
  | { kind: 'pglite'; dataDir: string | undefined; logger: Logger; loadImage?: Blob };

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  return options.kind === 'postgres' ? openPostgres(options) : openPglite(options);
}

async function openPostgres(options: {
  url: string;
  poolMax: number;
  logger: Logger;
}): Promise<DatabaseHandle> {
  // Loaded only in production mode, so the embedded default does not pay for it at start-up.
  const [{ default: pg }, { drizzle: drizzlePg }, { migrate: migratePg }] = await Promise.all([
    import('pg'),
    import('drizzle-orm/node-postgres'),
    import('drizzle-orm/node-postgres/migrator'),
  ]);
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    application_name: 'assay',
  });
  // An idle client losing its server must not crash the process; the pool replaces it.
  pool.on('error', (error) => options.logger.warn({ err: error }, 'idle database connection lost'));
  const db = drizzlePg(pool) as unknown as Database;
  return {
    kind: 'postgres',
    db,
    ping: async () => {
      await pool.query('select 1');
    },
    migrate: async () => {
      // Several processes may start at once; a session-level advisory lock on one connection
      // makes the second wait for the first instead of racing it.
      const client = new pg.Client({ connectionString: options.url });
      await client.connect();
      try {
        await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
        await migratePg(drizzlePg(client), { migrationsFolder: MIGRATIONS_FOLDER });
      } finally {
        await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => {});
        await client.end();
      }
    },
    close: async () => {
      if (!pool.ended) await pool.end();
    },
  };
}

async function openPglite(options: {
  dataDir: string | undefined;
  loadImage?: Blob;
  logger: Logger;
}): Promise<DatabaseHandle> {
  if (options.dataDir) {
    await mkdir(options.dataDir, { recursive: true });
    if (isEmptyDataDir(options.dataDir) && !(await copyTemplateInto(options.dataDir))) {
      // No template for these migrations yet (installed without scripts, or migrations changed
      // since): make it once, so the next new DATA_DIR starts fast too.
      options.logger.info('creating the embedded database template (once; takes a few seconds)');
      await ensureTemplate();
      await copyTemplateInto(options.dataDir);
    }
  }
  const client = await PGlite.create({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.loadImage ? { loadDataDir: options.loadImage } : {}),
  });
  const db = drizzlePglite(client) as unknown as Database;
  let closed = false;
  return {
    kind: 'pglite',
    db,
    ping: async () => {
      if (closed) throw new Error('database is closed');
      await db.execute(sql`select 1`);
    },
    migrate: async () => {
      await migratePglite(drizzlePglite(client), { migrationsFolder: MIGRATIONS_FOLDER });
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await client.close();
    },
  };
}

/** Postgres error code of a failed statement, looking through Drizzle's wrapper. */
export function postgresErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export const UNIQUE_VIOLATION = '23505';
