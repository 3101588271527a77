import { type ChildProcess, spawn } from 'node:child_process';

/**
 * Every process a benchmark starts goes through `start()`, so none outlives the harness: each is
 * the leader of its own process group (its own children, such as the sandbox probe's bwrap, go
 * with it), and the whole group is SIGKILLed on exit, on a signal or on an error.
 */

export type Exit = { code: number | null; signal: NodeJS.Signals | null };

export type Child = {
  readonly name: string;
  readonly pid: number;
  readonly process: ChildProcess;
  /** Settles when the process has exited. */
  readonly exited: Promise<Exit>;
  /** Settles when its stdout and stderr have closed too (after `exited`). */
  readonly closed: Promise<void>;
  /** Whether it has exited already. */
  hasExited(): boolean;
  /** The last few kilobytes of its stdout and stderr, for error messages. */
  output(): string;
};

const OUTPUT_TAIL_BYTES = 8 * 1024;
const live = new Set<Child>();

export function start(
  name: string,
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Child {
  const proc = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (proc.pid === undefined) throw new Error(`${name}: could not spawn ${command}`);
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  let done = false;
  let settle: (exit: Exit) => void = () => {};
  const exited = new Promise<Exit>((resolve) => {
    settle = resolve;
  });
  const finish = (exit: Exit) => {
    if (done) return;
    done = true;
    live.delete(child);
    settle(exit);
  };
  proc.once('exit', (code, signal) => finish({ code, signal }));
  proc.once('error', () => finish({ code: null, signal: null }));
  const closed = new Promise<void>((resolve) => {
    proc.once('close', () => resolve());
    proc.once('error', () => resolve());
  });
  const child: Child = {
    name,
    pid: proc.pid,
    process: proc,
    exited,
    closed,
    hasExited: () => done,
    output: () => tail,
  };
  live.add(child);
  return child;
}

function killGroup(child: Child, signal: NodeJS.Signals) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Sends `signal` (SIGTERM: the graceful path being measured) to the process itself and waits for
 * it to exit; after `timeoutMs` its whole group is SIGKILLed. Any leftovers of the group are
 * killed as well once the leader is gone.
 */
export async function stop(
  child: Child,
  options: { signal?: NodeJS.Signals; timeoutMs?: number } = {},
): Promise<Exit> {
  if (!child.hasExited()) {
    try {
      process.kill(child.pid, options.signal ?? 'SIGTERM');
    } catch {
      // Exited in the meantime.
    }
  }
  return waitForExit(child, options.timeoutMs ?? 15_000);
}

/** Waits for `child` to exit on its own; SIGKILLs its group and fails after `timeoutMs`. */
export async function waitForExit(child: Child, timeoutMs: number): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const outcome = await Promise.race([child.exited, timedOut]);
  clearTimeout(timer);
  killGroup(child, 'SIGKILL');
  if (outcome === 'timeout') {
    await child.exited;
    throw new Error(`${child.name} did not finish within ${timeoutMs} ms:\n${child.output()}`);
  }
  return outcome;
}

/** Synchronous, so it also works from an `exit` handler. */
export function killAll() {
  for (const child of live) killGroup(child, 'SIGKILL');
  live.clear();
}

let installed = false;

/** Kills every child on exit, on SIGINT/SIGTERM/SIGHUP and on an uncaught error. */
export function installCleanup() {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  const signals: Array<[NodeJS.Signals, number]> = [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ];
  for (const [signal, code] of signals) {
    process.on(signal, () => {
      process.stderr.write(`bench: ${signal}, stopping children\n`);
      killAll();
      process.exit(code);
    });
  }
  const fail = (error: unknown) => {
    process.stderr.write(
      `bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    killAll();
    process.exit(1);
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
}
