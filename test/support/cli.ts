import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ASSAY = join(process.cwd(), 'bin', 'assay.mjs');

/** The environment a user would have: none of the test runner's database or Redis settings. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LOG_LEVEL: 'info',
  };
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) env[key] = value;
  return env;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export async function tempDataDir() {
  const dir = await mkdtemp(join(tmpdir(), 'assay-e2e-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Runs `assay <args>` to completion. Never throws on a non-zero exit: tests look at the code. */
export async function assay(
  args: string[],
  env: NodeJS.ProcessEnv,
  options: { cwd?: string } = {},
) {
  try {
    const { stdout, stderr } = await run(process.execPath, [ASSAY, ...args], {
      env,
      // From test/ by default, so a developer's own .env in the checkout never leaks in.
      cwd: options.cwd ?? join(process.cwd(), 'test'),
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof failed.code === 'number' ? failed.code : 1,
      stdout: failed.stdout ?? '',
      stderr: failed.stderr ?? '',
    };
  }
}

export type Server = {
  process: ChildProcess;
  port: number;
  output: () => string;
  url: (path: string) => string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
};

/** Starts a long-running `assay` command (serve, worker) and waits until it says it is up. */
export async function startAssay(
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp = /assay is serving/,
): Promise<Server> {
  const port = Number(env.PORT ?? 0);
  const child = spawn(process.execPath, [ASSAY, ...args], {
    env,
    cwd: join(process.cwd(), 'test'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`assay ${args.join(' ')} did not start:\n${output}`)),
      30_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`assay ${args.join(' ')} exited with ${code}:\n${output}`));
    });
  });
  return {
    process: child,
    port,
    output: () => output,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}
