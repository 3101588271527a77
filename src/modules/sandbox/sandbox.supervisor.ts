import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { SandboxHost } from './sandbox.host.ts';

const run = promisify(execFile);

/** Where the supervisor appears inside the sandbox. */
export const SUPERVISOR_PATH = '/.assay/supervise';

const GCC = '/usr/bin/gcc';

/**
 * The source sits beside this module; from the bundle (dist/cli.mjs) it is found in the
 * sources of the checkout the bundle was built from.
 */
const SOURCE_CANDIDATES = [
  new URL('./supervisor/supervisor.c', import.meta.url),
  new URL('../src/modules/sandbox/supervisor/supervisor.c', import.meta.url),
];

function sourceUrl(): URL {
  const found = SOURCE_CANDIDATES.find((url) => existsSync(url));
  if (!found) throw new Error('supervisor/supervisor.c not found');
  return found;
}

const builds = new Map<string, Promise<string>>();

/**
 * The supervisor binary for this host, compiled at first use with the host's gcc (trusted code,
 * run as root outside any sandbox) into the host's root-owned work root, mode 0555, named after
 * the source's hash so an edited source is rebuilt. Static when libc.a is installed (no loader
 * inside the sandbox), dynamic otherwise. One build per work root and process.
 */
export function supervisorBinary(host: Pick<SandboxHost, 'workRoot'>): Promise<string> {
  const source = sourceUrl();
  const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 16);
  const binary = join(host.workRoot, `supervisor-${hash}`);
  let build = builds.get(binary);
  if (!build) {
    build = compile({ source, binary });
    builds.set(binary, build);
    build.catch(() => builds.delete(binary));
  }
  return build;
}

async function compile(options: { source: URL; binary: string }): Promise<string> {
  if (existsSync(options.binary)) return options.binary;
  const partial = `${options.binary}.partial`;
  const common = ['-O2', '-Wall', '-o', partial, options.source.pathname];
  const env = { PATH: '/usr/bin:/bin', LANG: 'C' };
  try {
    try {
      await run(GCC, ['-static', ...common], { env, timeout: 60_000 });
    } catch {
      await run(GCC, common, { env, timeout: 60_000 });
    }
    await chmod(partial, 0o555);
    await rename(partial, options.binary);
    return options.binary;
  } catch (error) {
    await rm(partial, { force: true });
    throw new Error(`the sandbox supervisor does not compile: ${(error as Error).message}`);
  }
}
