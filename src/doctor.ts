import { resolve } from 'node:path';
import { sql } from 'drizzle-orm';
import { createExecutionService } from './modules/sandbox/sandbox.execution.ts';
import { findLanguage } from './modules/sandbox/sandbox.languages.ts';
import { hiddenHostPaths } from './modules/sandbox/sandbox.selftest.ts';
import type { Config } from './platform/config/config.ts';
import { openDatabase } from './platform/db/database.ts';
import { createLogger } from './platform/logger/logger.ts';
import { PACKAGE_ROOT } from './platform/paths.ts';
import { createRedisFactory, withTimeout } from './platform/redis/redis.ts';
import { createStorage } from './platform/storage/create-storage.ts';

type Line = (text: string) => void;

const describeUrl = (url: string) => {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}${parsed.pathname}`;
};

/** Prints each configured dependency and whether it answers. Returns false when a required one does not. */
export async function runDoctor(config: Config, print: Line): Promise<boolean> {
  const logger = createLogger({ level: 'silent' });
  const timeoutMs = config.health.checkTimeoutMs * 2;
  let ok = true;
  const report = async (
    name: string,
    target: string,
    required: boolean,
    probe: () => Promise<string | undefined>,
  ) => {
    try {
      const detail = await withTimeout(probe(), timeoutMs, name);
      print(`ok    ${name.padEnd(9)} ${target}${detail ? ` (${detail})` : ''}`);
    } catch (error) {
      if (required) ok = false;
      const reason = error instanceof Error ? error.message : String(error);
      print(`${required ? 'FAIL ' : 'warn '} ${name.padEnd(9)} ${target}: ${reason}`);
    }
  };

  print(`assay doctor: NODE_ENV=${config.nodeEnv}, node ${process.version}`);
  const dbTarget = config.database.url
    ? `postgres ${describeUrl(config.database.url)}`
    : `pglite ${resolve(config.dataDir, 'db')}`;
  await report('database', dbTarget, true, async () => {
    const database = config.database.url
      ? await openDatabase({ kind: 'postgres', url: config.database.url, poolMax: 1, logger })
      : await openDatabase({ kind: 'pglite', dataDir: resolve(config.dataDir, 'db'), logger });
    try {
      await database.ping();
      const result = (await database.db.execute(sql`select version() as version`)) as unknown as {
        rows: Array<{ version: string }>;
      };
      return result.rows[0]?.version.split(' ').slice(0, 2).join(' ');
    } finally {
      await database.close();
    }
  });
  if (config.redis.url) {
    await report('redis', describeUrl(config.redis.url), true, async () => {
      const client = createRedisFactory({
        url: config.redis.url!,
        prefix: config.redis.prefix,
        logger,
      }).connect({
        name: 'assay-doctor',
      });
      try {
        const info = await client.info('server');
        return `redis ${/redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown'}, prefix ${config.redis.prefix}`;
      } finally {
        client.disconnect();
      }
    });
  } else {
    print('-     redis     not configured: in-process queue, scheduler and event bus');
  }
  const storage = createStorage(config);
  await report('storage', storage.location, true, async () => {
    try {
      await storage.check();
    } finally {
      storage.close();
    }
    return undefined;
  });
  await reportSandbox(config, print);
  print(
    config.mail.smtpUrl
      ? `-     mail      smtp ${describeUrl(config.mail.smtpUrl)}`
      : `-     mail      files in ${resolve(config.dataDir, 'mail')}`,
  );
  return ok;
}

/**
 * The sandbox as the server would find it: isolation features, the start-up self-test, and per
 * language its version and a real hello-world run. Not required: without it everything but
 * code execution works.
 */
async function reportSandbox(config: Config, print: Line) {
  const execution = createExecutionService({
    settings: config.sandbox,
    logger: createLogger({ level: 'silent' }),
    hiddenPaths: hiddenHostPaths({ dataDir: config.dataDir, appDir: PACKAGE_ROOT }),
    appDir: PACKAGE_ROOT,
    hostPath: config.hostPath,
  });
  try {
    const status = await execution.status();
    if (!status.available) {
      print(`FAIL  sandbox   ${config.sandbox.mode}: ${status.reason}`);
      return;
    }
    const { features } = status;
    print(
      features
        ? `ok    sandbox   bubblewrap ${features.bubblewrap}, cgroup ${features.cgroup}, seccomp ${features.seccomp}, uid ${features.uid}, namespaces all unshared, self-test ${features.selfTest}`
        : `WARN  sandbox   ${status.reason}`,
    );
    for (const language of status.languages) {
      const hello = findLanguage(language.id)?.hello ?? '';
      const started = Date.now();
      const result = await execution
        .execute({ owner: 'doctor', language: language.id, source: hello })
        .catch((error: Error) => ({
          status: 'internal_error',
          stdout: Buffer.from(error.message),
        }));
      const said = result.stdout.toString('utf8').trim();
      const works = result.status === 'ok' && said === 'hello';
      print(
        `${works ? 'ok   ' : 'FAIL '} ${language.id.padEnd(10)} ${language.name} ${language.version}: hello ${works ? 'ran' : `gave ${result.status} ${JSON.stringify(said.slice(0, 60))}`} in ${Date.now() - started} ms`,
      );
    }
    for (const missing of status.missing)
      print(`-     ${missing.id.padEnd(10)} not offered: ${missing.reason}`);
  } finally {
    await execution.close();
  }
}
