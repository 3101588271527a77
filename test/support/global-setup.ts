import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/platform/db/database.ts';
import { ensureTemplate } from '../../src/platform/db/pglite-template.ts';
import { createLogger } from '../../src/platform/logger/logger.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A migrated PGlite cluster that each test copies (never opens directly). */
    pgliteTemplateDir: string;
    /** A migrated Postgres database to clone with CREATE DATABASE … TEMPLATE, when DATABASE_URL is set. */
    postgresTemplate: { adminUrl: string; name: string; runId: string } | null;
    /** A key prefix no other run uses, when REDIS_URL is set. */
    redis: { url: string; prefix: string } | null;
  }
}

const logger = createLogger({ level: 'silent' });

/**
 * Once per run: one migrated image per database kind, so each test gets a fresh database in a
 * fraction of a second instead of migrating its own. Everything made here is removed at the end.
 */
export default async function setup(project: TestProject) {
  const runId = randomBytes(4).toString('hex');
  await ensureTemplate();
  const root = await mkdtemp(join(tmpdir(), `assay-test-${runId}-`));
  const pgliteTemplateDir = join(root, 'template');
  const pglite = await openDatabase({ kind: 'pglite', dataDir: pgliteTemplateDir, logger });
  await pglite.migrate();
  await pglite.close();
  project.provide('pgliteTemplateDir', pgliteTemplateDir);

  const databaseUrl = process.env.DATABASE_URL;
  let postgresTemplate: { adminUrl: string; name: string; runId: string } | null = null;
  if (databaseUrl) {
    const name = `assay_test_${runId}_template`;
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const templateUrl = new URL(databaseUrl);
    templateUrl.pathname = `/${name}`;
    const template = await openDatabase({
      kind: 'postgres',
      url: templateUrl.toString(),
      poolMax: 2,
      logger,
    });
    await template.migrate();
    await template.close();
    postgresTemplate = { adminUrl: databaseUrl, name, runId };
  }
  project.provide('postgresTemplate', postgresTemplate);

  const redisUrl = process.env.REDIS_URL;
  const redis = redisUrl ? { url: redisUrl, prefix: `assay-test-${runId}` } : null;
  project.provide('redis', redis);

  return async () => {
    await rm(root, { recursive: true, force: true });
    if (databaseUrl) {
      const admin = new pg.Client({ connectionString: databaseUrl });
      await admin.connect();
      const { rows } = await admin.query<{ datname: string }>(
        `select datname from pg_database where datname like $1`,
        [`assay_test_${runId}_%`],
      );
      for (const row of rows)
        await admin.query(`drop database if exists ${row.datname} with (force)`);
      await admin.end();
    }
    if (redis) {
      const { Redis } = await import('ioredis');
      const client = new Redis(redis.url);
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `${redis.prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await client.del(...keys);
      } while (cursor !== '0');
      client.disconnect();
    }
  };
}
