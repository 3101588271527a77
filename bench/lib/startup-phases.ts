/**
 * Diagnostic child for the cold-start benchmark: repeats the steps of `assay serve` (src/cli.ts
 * and src/main.ts) in the same order, with a timestamp after each, and prints them as one JSON
 * line prefixed with PHASES, together with the CPU the process has used. Run as
 * `node --import tsx bench/lib/startup-phases.ts` with the environment the server gets. Only
 * dynamic imports, so the first mark is taken before any of Assay's modules load.
 */
const marks: Array<[string, number]> = [];
const mark = (phase: string) => marks.push([phase, performance.now()]);
mark('node boot + tsx loader');

const { resolve } = await import('node:path');
await import('../../src/cli.ts');
const { parseConfig } = await import('../../src/platform/config/config.ts');
const { createLogger } = await import('../../src/platform/logger/logger.ts');
const { copyTemplateInto, isEmptyDataDir } = await import(
  '../../src/platform/db/pglite-template.ts'
);
const { openDatabase } = await import('../../src/platform/db/database.ts');
const { createDeps } = await import('../../src/deps.ts');
const { buildApp } = await import('../../src/app.ts');
const { startWorkerRole } = await import('../../src/worker.ts');
const { get } = await import('./net.ts');
const { processCpuSeconds } = await import('./cpu.ts');
mark('load modules (tsx transpile or cache)');

const parsed = parseConfig(process.env);
if (!parsed.ok) throw new Error(parsed.problems.join('; '));
const config = parsed.config;
const logger = createLogger({ level: config.logLevel });
const dbDir = resolve(config.dataDir, 'db');
if (isEmptyDataDir(dbDir)) await copyTemplateInto(dbDir);
mark('copy database template (empty DATA_DIR only)');

const database = await openDatabase({ kind: 'pglite', dataDir: dbDir, logger });
mark('open embedded database (PGlite)');
await database.migrate();
mark('apply migrations');
const deps = await createDeps(config, logger, { database, migrate: false });
mark('other dependencies (queue, storage, JWT secret)');
const app = await buildApp(deps);
mark('build app (plugins, routes, OpenAPI)');
const workers = await startWorkerRole(deps);
mark('start workers and scheduler');
await app.listen({ port: config.http.port, host: config.http.host, backlog: 4096 });
mark('listen');
const health = await get(config.http.port, '/health');
if (health.status !== 200) throw new Error(`/health answered ${health.status}: ${health.body}`);
mark('first GET /health (dependency probes)');

// CPU up to here, with waited-for children (the template copy's cp, the sandbox probe's bwrap),
// so the harness can tell how much of the machine other processes took meanwhile.
const cpuSeconds = processCpuSeconds(process.pid);
process.stdout.write(`PHASES ${JSON.stringify({ marks, cpuSeconds })}\n`);
await app.close();
await workers.close(config.shutdownTimeoutMs);
await deps.close();
process.exit(0);
