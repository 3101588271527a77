import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Child, start } from './children.ts';
import { HOST } from './net.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TMP_ROOT = join(REPO_ROOT, 'bench', '.tmp');

/** A new, empty directory under bench/.tmp (git-ignored; on the same disk as ./data would be). */
export async function freshDir(prefix: string): Promise<string> {
  mkdirSync(TMP_ROOT, { recursive: true });
  return mkdtemp(join(TMP_ROOT, `${prefix}-`));
}

export const removeDir = (dir: string) => rm(dir, { recursive: true, force: true });

/**
 * The environment `npm start` would see, minus any external database or Redis. They are set
 * empty rather than deleted: Assay's config reads an empty value as unset, and dotenv never
 * overrides a variable that exists, so a developer's .env cannot bring them back.
 */
export function assayEnv(port: number, dataDir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DATABASE_URL: '',
    REDIS_URL: '',
    PORT: String(port),
    HOST,
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
  };
}

/** `node bin/assay.mjs serve`: what `npm start` runs, without npm in front. */
export const startAssay = (port: number, dataDir: string): Child =>
  start('assay serve', process.execPath, ['bin/assay.mjs', 'serve'], {
    cwd: REPO_ROOT,
    env: assayEnv(port, dataDir),
  });

/**
 * The reference: plain Node and Fastify (CommonJS, no loader, no plugins), one route returning
 * small JSON, same host, same backlog, stopped on SIGTERM like Assay.
 */
export const BARE_FASTIFY_SOURCE = [
  "const app = require('fastify')({ logger: false });",
  "app.get('/health', async () => ({ status: 'ok' }));",
  "process.on('SIGTERM', () => app.close().then(() => process.exit(0)));",
  'app',
  '  .listen({ port: Number(process.env.PORT), host: process.env.HOST, backlog: 4096 })',
  '  .catch((error) => { console.error(error); process.exit(1); });',
].join('\n');

export const startBareFastify = (port: number): Child =>
  start('bare fastify', process.execPath, ['-e', BARE_FASTIFY_SOURCE], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: String(port), HOST },
  });
