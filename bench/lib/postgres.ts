import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { processCpuSeconds } from './cpu.ts';

/**
 * The PostgreSQL and Redis the benchmarks run against: a fresh database per run (dropped
 * afterwards), a Redis key prefix per run (its keys deleted afterwards), and the CPU both use,
 * read from /proc/<pid>/stat of the server processes that serve this run.
 */

export const POSTGRES_ADMIN_URL =
  process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The server's URL with another database name. */
const databaseUrl = (name: string) => {
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
};
const adminUrl = () => databaseUrl('postgres');

export type BenchDatabase = {
  name: string;
  url: string;
  /**
   * Busy CPU-seconds so far of each of this database's backends and of the processes every
   * database shares, by pid (backends come and go with pools: compare pid by pid).
   */
  cpuByPid(): Promise<Map<number, number>>;
  close(): Promise<void>;
};

/** A process's parent pid, from /proc (undefined when it is gone or not on this machine). */
function parentOf(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const match = /^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Fails with a clear message when PostgreSQL does not answer. */
export async function createDatabase(prefix: string): Promise<BenchDatabase> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl(), application_name: 'bench-admin' });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL at ${POSTGRES_ADMIN_URL} does not answer (${error instanceof Error ? error.message : String(error)}); set BENCH_POSTGRES_URL`,
    );
  }
  await admin.query(`create database ${name}`);
  return {
    name,
    url: databaseUrl(name),
    async cpuByPid() {
      // Backends of this database, and the processes every database shares (WAL writer,
      // checkpointer, background writer, autovacuum launcher): datname is null for those.
      const { rows } = await admin.query<{ pid: number }>(
        `select pid from pg_stat_activity
         where (datname = $1 or (datname is null and backend_type <> 'client backend'))
           and pid <> pg_backend_pid()`,
        [name],
      );
      const cpu = new Map<number, number>();
      // Parallel query workers live for one statement: they are gone before the next sample.
      // The postmaster reaps them, so its waited-for children's time counts their work (and,
      // rarely, a whole backend that closed meanwhile).
      const postmaster = parentOf(rows[0]?.pid);
      if (postmaster) rows.push({ pid: postmaster });
      for (const { pid } of rows) {
        try {
          // processCpuSeconds adds waited-for children; backends have none.
          cpu.set(pid, processCpuSeconds(pid));
        } catch {
          // Gone meanwhile.
        }
      }
      return cpu;
    },
    async close() {
      await admin.query(`drop database if exists ${name} with (force)`).catch(() => undefined);
      await admin.end().catch(() => undefined);
    },
  };
}

export type BenchRedis = {
  prefix: string;
  cpuSeconds(): number;
  close(): Promise<void>;
};

/** A key prefix of its own for this run; its keys are deleted on close. */
export async function openRedis(prefix: string): Promise<BenchRedis> {
  const { Redis } = await import('ioredis');
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw new Error(
      `Redis at ${REDIS_URL} does not answer (${error instanceof Error ? error.message : String(error)}); set BENCH_REDIS_URL`,
    );
  }
  const info = await client.info('server');
  const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
  const runPrefix = `${prefix}${randomBytes(4).toString('hex')}`;
  return {
    prefix: runPrefix,
    cpuSeconds() {
      try {
        return Number.isInteger(pid) ? processCpuSeconds(pid) : 0;
      } catch {
        return 0;
      }
    },
    async close() {
      try {
        let cursor = '0';
        do {
          const [next, keys] = await client.scan(cursor, 'MATCH', `${runPrefix}*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length > 0) await client.unlink(...keys);
        } while (cursor !== '0');
      } finally {
        client.disconnect();
      }
    },
  };
}
