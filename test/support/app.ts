import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type App, buildApp } from '../../src/app.ts';
import { createDeps, type Deps, type DepsOverrides } from '../../src/deps.ts';
import { createTestClock, type TestClock } from '../../src/platform/clock/clock.ts';
import { parseConfig } from '../../src/platform/config/config.ts';
import type { DatabaseHandle } from '../../src/platform/db/database.ts';
import { createLogger } from '../../src/platform/logger/logger.ts';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from './databases.ts';

export type LogLine = {
  level: string;
  msg: string;
  requestId?: string;
  err?: { message: string; stack?: string };
} & Record<string, unknown>;

export type TestApp = {
  app: App;
  deps: Deps;
  clock: TestClock;
  logs: LogLine[];
  dataDir: string;
  database: Pick<TestDatabase, keyof DatabaseHandle | 'destroy'>;
  close(): Promise<void>;
};

/**
 * A whole Assay app on a fresh database of its own, driven with `app.inject()`. Log lines are
 * kept in `logs` so tests can check what was (and was not) written.
 */
export async function createTestApp(
  options: {
    /** A kind for a fresh database, or a handle the test opened itself (closed with the app). */
    database?: DatabaseKind | Pick<TestDatabase, keyof DatabaseHandle | 'destroy'>;
    env?: Record<string, string>;
    beforeReady?: (app: App) => unknown;
    /** Stands in for the machine's sandbox detection (e.g. one without bubblewrap). */
    detectSandboxHost?: DepsOverrides['detectSandboxHost'];
  } = {},
): Promise<TestApp> {
  const dataDir = await mkdtemp(join(tmpdir(), 'assay-app-'));
  const parsed = parseConfig({
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    HEALTH_CACHE_MS: '0',
    RATE_LIMIT_ANONYMOUS_PER_MINUTE: '5000',
    RATE_LIMIT_USER_PER_MINUTE: '5000',
    RATE_LIMIT_LOGIN_PER_MINUTE: '5000',
    NODE_ENV: 'test',
    JWT_SECRET: 'test-secret-that-is-long-enough-0123456789',
    ...options.env,
  });
  if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
  const logs: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n'))
        if (line.trim()) logs.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const logger = createLogger({ level: 'info', destination });
  const database =
    typeof options.database === 'object'
      ? options.database
      : await createTestDatabase(options.database ?? 'pglite');
  const clock = createTestClock();
  const deps = await createDeps(parsed.config, logger, {
    database,
    clock,
    migrate: false,
    ...(options.detectSandboxHost ? { detectSandboxHost: options.detectSandboxHost } : {}),
  });
  const app = await buildApp(deps);
  await options.beforeReady?.(app);
  await app.ready();
  return {
    app,
    deps,
    clock,
    logs,
    dataDir,
    database,
    async close() {
      await app.close();
      await deps.close();
      await database.destroy();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
