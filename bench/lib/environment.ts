import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './servers.ts';
import { wrkVersion } from './wrk.ts';

export type Environment = {
  date: string;
  commit: string;
  /** Files outside the harness that differ from the commit (so the measured code is not it). */
  modified: string[];
  node: string;
  bwrap: string;
  psql: string;
  postgresServer: string;
  pglite: string;
  redis: string;
  wrk: string;
  nproc: string;
  cpuModel: string;
  memory: string;
  kernel: string;
  loadAverage: string;
};

const NOT_AVAILABLE = 'not available';

function run(command: string, args: readonly string[]): string {
  try {
    return execFileSync(command, args, {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5_000,
    }).trim();
  } catch {
    return NOT_AVAILABLE;
  }
}

function postgresServerVersion(): string {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return NOT_AVAILABLE;
  const versions = readdirSync(root)
    .map((major) => join(root, major, 'bin', 'postgres'))
    .filter((binary) => existsSync(binary))
    .map((binary) => run(binary, ['--version']));
  return versions.length > 0 ? versions.join(', ') : NOT_AVAILABLE;
}

function packageVersion(name: string): string {
  try {
    const file = join(REPO_ROOT, 'node_modules', name, 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return NOT_AVAILABLE;
  }
}

function procField(file: string, pattern: RegExp): string {
  try {
    return readFileSync(file, 'utf8').match(pattern)?.[1]?.trim() ?? NOT_AVAILABLE;
  } catch {
    return NOT_AVAILABLE;
  }
}

/** Porcelain lines start with a two-letter status and a space, so the output is not trimmed. */
function gitStatus(): string {
  try {
    return execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5_000,
    });
  } catch {
    return '';
  }
}

const isHarnessFile = (path: string) => path === 'bin/bench.mjs' || path.startsWith('bench/');

export function describeEnvironment(): Environment {
  const status = gitStatus();
  const modified = status
    .split('\n')
    .map((line) => line.slice(3).trim())
    .filter((path) => path.length > 0 && !isHarnessFile(path));
  const memKb = Number(procField('/proc/meminfo', /^MemTotal:\s+(\d+)/m));
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    commit: run('git', ['rev-parse', '--short', 'HEAD']),
    modified,
    node: process.version,
    bwrap: run('bwrap', ['--version']),
    psql: run('psql', ['--version']),
    postgresServer: postgresServerVersion(),
    pglite: `@electric-sql/pglite ${packageVersion('@electric-sql/pglite')}`,
    redis: run('redis-server', ['--version']),
    wrk: wrkVersion() ?? NOT_AVAILABLE,
    nproc: run('nproc', []),
    cpuModel: procField('/proc/cpuinfo', /^model name\s*:\s*(.+)$/m),
    memory: Number.isFinite(memKb) ? `${(memKb / 1024 / 1024).toFixed(1)} GiB` : NOT_AVAILABLE,
    kernel: run('uname', ['-sr']),
    loadAverage: procField('/proc/loadavg', /^(\S+ \S+ \S+)/),
  };
}

/** How this run was started, as someone would type it. */
export function invocation(args: readonly string[]): string {
  const viaNpm = process.env.npm_lifecycle_event === 'bench';
  const rest = args.length > 0 ? args.join(' ') : '';
  if (viaNpm) return rest ? `npm run bench -- ${rest}` : 'npm run bench';
  return rest ? `node bin/bench.mjs ${rest}` : 'node bin/bench.mjs';
}
