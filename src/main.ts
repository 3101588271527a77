import { buildApp } from './app.ts';
import { createDeps, type Deps } from './deps.ts';
import { passwordProblem } from './modules/auth/password-policy.ts';
import type { Config } from './platform/config/config.ts';
import { createLogger, type Logger } from './platform/logger/logger.ts';
import { startWorkerRole, type WorkerRole } from './worker.ts';

type Closer = { name: string; close: () => Promise<void> };

/**
 * Stops in order on SIGTERM/SIGINT: HTTP first (no new requests, in-flight ones finish), then
 * workers (running jobs finish or are handed back), then connections. A second signal, or the
 * bound running out, ends the process at once.
 */
function onShutdownSignals(logger: Logger, timeoutMs: number, closers: () => Closer[]) {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, timeoutMs }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error('shutdown took longer than SHUTDOWN_TIMEOUT_MS; exiting');
      process.exit(1);
    }, timeoutMs + 2_000);
    deadline.unref();
    for (const closer of closers()) {
      try {
        await closer.close();
      } catch (error) {
        logger.error({ err: error, step: closer.name }, 'shutdown step failed');
      }
    }
    logger.info('stopped');
    logger.flush?.();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

async function ensureAdmin(deps: Deps) {
  if (!deps.config.admin) return;
  const problem = passwordProblem(deps.config.admin.password, { email: deps.config.admin.email });
  if (problem) throw new Error(`ADMIN_PASSWORD: ${problem}`);
  await deps.users.ensureAdmin(deps.config.admin);
}

/** Detects the sandbox in the background at start, so the first run does not wait, and says what it found. */
function logSandbox(deps: Deps) {
  void deps.execution.status().then((status) => {
    if (status.available)
      deps.logger.info(
        { languages: status.languages.map((language) => `${language.id} ${language.version}`) },
        'sandbox ready',
      );
  });
}

export async function serve(config: Config, options: { workers: boolean }) {
  const logger = createLogger({ level: config.logLevel });
  const deps = await createDeps(config, logger);
  await ensureAdmin(deps);
  logSandbox(deps);
  const app = await buildApp(deps);
  let workerRole: WorkerRole | undefined;
  onShutdownSignals(logger, config.shutdownTimeoutMs, () => [
    { name: 'http', close: () => app.close() },
    { name: 'workers', close: async () => workerRole?.close(config.shutdownTimeoutMs) },
    { name: 'connections', close: () => deps.close() },
  ]);
  if (options.workers) workerRole = await startWorkerRole(deps);
  const address = await app.listen({
    port: config.http.port,
    host: config.http.host,
    backlog: 4096,
  });
  logger.info(
    {
      address,
      database: deps.database.kind,
      queue: deps.driver.kind,
      workers: options.workers ? 'in-process' : 'none',
    },
    'assay is serving',
  );
}

export async function work(config: Config, options: { queues?: readonly string[] }) {
  const logger = createLogger({ level: config.logLevel });
  const deps = await createDeps(config, logger);
  let workerRole: WorkerRole | undefined;
  onShutdownSignals(logger, config.shutdownTimeoutMs, () => [
    { name: 'workers', close: async () => workerRole?.close(config.shutdownTimeoutMs) },
    { name: 'connections', close: () => deps.close() },
  ]);
  logSandbox(deps);
  workerRole = await startWorkerRole(deps, options);
  logger.info(
    { queues: workerRole.worker.queues, queue: deps.driver.kind },
    'assay worker is running',
  );
}
