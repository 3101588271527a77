import { spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  buildBwrapArgs,
  detectRootLayout,
  type ReadOnlyPath,
} from '../../src/modules/sandbox/sandbox.bwrap.ts';
import {
  parseMountinfo,
  parseProcCgroup,
  resolveCgroupLayout,
} from '../../src/modules/sandbox/sandbox.cgroup.ts';
import {
  buildSeccompProgram,
  encodeSeccompProgram,
} from '../../src/modules/sandbox/sandbox.seccomp.ts';
import type { Limits, StepFile } from '../../src/modules/sandbox/sandbox.types.ts';

/**
 * The physical floor of one sandboxed run: raw bwrap with exactly the command line Assay's
 * `buildBwrapArgs` produces (same flags, same seccomp filter on fd 3, same JSON status fd 4),
 * inside a cgroup made with the same steps (mkdir per v1 controller, memory and memsw/swappiness
 * and pids limits, `cgroup.procs` handed to the sandbox user, joined by the process itself before
 * it execs bwrap, rmdir afterwards), a fresh work directory, driven by the smallest harness:
 * synchronous fs calls, one spawn, wait for it to close. No watchdogs, no counter reads, no
 * status parsing, no verdicts. Assay's functions are used only for what "the same flags" means
 * (the bwrap argument list, the seccomp program) and, once at set-up, to find the cgroup mounts.
 */

const SECCOMP_FD = 3;
const STATUS_FD = 4;

/** Joins every cgroup named before `--`, sets the same rlimits as Assay's helper, execs bwrap. */
const JOIN_EXEC = [
  'while [ "$1" != -- ]; do echo $$ > "$1"; shift; done; shift',
  'ulimit -c 0; ulimit -n "$1"; ulimit -f "$2"; ulimit -S -t "$3"; ulimit -H -t "$4"',
  'shift 4; exec "$@"',
].join('\n');

export type RawProgram = {
  argv: readonly string[];
  files: Readonly<Record<string, StepFile>>;
  env: Readonly<Record<string, string>>;
  readOnlyPaths: readonly ReadOnlyPath[];
};

/** Timestamps of one raw run, in ms from its start. */
export type RawTimes = {
  totalMs: number;
  cgroupCreateMs: number;
  workDirCreateMs: number;
  /** spawn of the join helper until bwrap has exited and every pipe is closed. */
  spawnToCloseMs: number;
  cgroupRemoveMs: number;
  workDirRemoveMs: number;
  stdout: string;
  /** Files named in `collect`, read from the work directory after the run (a compile's binary). */
  artifacts: Record<string, Buffer>;
  /** Whether `killAfterMs` ran out and the run was killed. */
  killed: boolean;
};

/** What a judging pipeline needs beyond a hello run. */
export type RawRunOptions = {
  stdin?: string;
  /** The work directory is writable (a compile step), as Assay's compile steps have it. */
  writable?: boolean;
  collect?: readonly string[];
  /** Kills the run after this many ms of wall time (the reference's time limit). */
  killAfterMs?: number;
};

export type RawSandbox = {
  run(program: RawProgram, limits: Limits, options?: RawRunOptions): Promise<RawTimes>;
  /**
   * The helper alone: joins the cgroup (or, with `join: false`, skips that), sets the rlimits
   * and execs `argv` without bwrap. For the breakdown of the fixed cost.
   */
  joinOnly(argv: readonly string[], limits: Limits, options: { join: boolean }): Promise<RawTimes>;
  close(): void;
};

const CONTROLLERS = ['memory', 'pids', 'cpuacct', 'freezer'] as const;

const ownCgroups = () => {
  const layout = resolveCgroupLayout({
    mounts: parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')),
    self: parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8')),
  });
  if (layout.version !== 1) throw new Error('the raw bwrap reference is written for cgroup v1');
  return layout.own;
};

export type CpuAccount = { cpuSeconds(): number; close(): void };

/**
 * Moves the harness into a cpuacct cgroup of its own (accounting only: no limit, no other
 * controller), made before any sandbox so every step cgroup is created below it. Its counter
 * is then the CPU of the harness and of everything it started: bare children, the sandboxes and
 * bwrap's own init, which its monitor leaves to be reaped by the host's init, so it never shows
 * in the harness's rusage. Machine busy time minus this is what other processes used.
 */
export function openCpuAccount(): CpuAccount {
  const own = ownCgroups().cpuacct!;
  const dir = join(own, `assay-bench-${process.pid}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'cgroup.procs'), String(process.pid));
  return {
    cpuSeconds: () => Number(readFileSync(join(dir, 'cpuacct.usage'), 'utf8')) / 1e9,
    close: () => {
      writeFileSync(join(own, 'cgroup.procs'), String(process.pid));
      try {
        rmdirSync(dir);
      } catch {
        // a sandbox cgroup is still below it; the harness's exit leaves it empty
      }
    },
  };
}

export function openRawSandbox(options: {
  bwrapPath: string;
  shPath: string;
  workRoot: string;
  uid: number;
  gid: number;
}): RawSandbox {
  const own = ownCgroups();
  const parents = CONTROLLERS.filter((c) => own[c]).map((c) =>
    join(own[c]!, `assay-bench-raw-${process.pid}`),
  );
  for (const parent of parents) mkdirSync(parent, { recursive: true });
  const memoryParent = parents[0]!;
  const pidsParent = parents[1]!;
  const root = detectRootLayout();
  const seccomp = encodeSeccompProgram(buildSeccompProgram({ arch: process.arch }));
  let counter = 0;

  const step = async (
    limits: Limits,
    command: (workDir: string) => readonly string[],
    files: Readonly<Record<string, StepFile>>,
    joinCgroup = true,
    extra: RawRunOptions = {},
  ): Promise<RawTimes> => {
    const startedAt = performance.now();
    counter += 1;
    const id = `r${process.pid}-${counter}`;
    const dirs = parents.map((parent) => join(parent, id));
    for (const dir of dirs) mkdirSync(dir);
    writeFileSync(join(memoryParent, id, 'memory.limit_in_bytes'), String(limits.memoryBytes));
    try {
      writeFileSync(
        join(memoryParent, id, 'memory.memsw.limit_in_bytes'),
        String(limits.memoryBytes),
      );
    } catch {
      writeFileSync(join(memoryParent, id, 'memory.swappiness'), '0');
    }
    writeFileSync(join(pidsParent, id, 'pids.max'), String(limits.processes + 2));
    const procs = dirs.map((dir) => join(dir, 'cgroup.procs'));
    for (const file of procs) chownSync(file, options.uid, options.gid);
    const cgroupAt = performance.now();

    const workDir = mkdtempSync(join(options.workRoot, 'raw-'));
    for (const [name, file] of Object.entries(files)) {
      writeFileSync(join(workDir, name), file.content, {
        flag: 'wx',
        mode: file.executable ? 0o555 : 0o444,
      });
    }
    chownSync(workDir, options.uid, options.gid);
    chmodSync(workDir, extra.writable ? 0o700 : 0o500);
    const workDirAt = performance.now();

    const cpuSeconds = Math.ceil(limits.cpuMs / 1000) + 1;
    const child = spawn(
      options.shPath,
      [
        '-c',
        JOIN_EXEC,
        'raw',
        ...(joinCgroup ? procs : []),
        '--',
        String(limits.openFiles),
        String(Math.ceil(limits.fileSizeBytes / 512)),
        String(cpuSeconds),
        String(cpuSeconds + 1),
        ...command(workDir),
      ],
      {
        stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe'],
        env: {},
        cwd: '/',
        uid: options.uid,
        gid: options.gid,
      },
    );
    (globalThis as { RAWSPAWN?: number[] }).RAWSPAWN?.push(performance.now() - workDirAt);
    const stdio = child.stdio as unknown as [
      NodeJS.WritableStream,
      NodeJS.ReadableStream,
      NodeJS.ReadableStream,
      NodeJS.WritableStream,
      NodeJS.ReadableStream,
    ];
    stdio[0].on('error', () => undefined);
    stdio[0].end(extra.stdin ?? '');
    stdio[3].on('error', () => undefined);
    stdio[3].end(seccomp);
    let stdout = '';
    stdio[1].on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    stdio[2].resume();
    stdio[4].resume();
    let killed = false;
    const killer =
      extra.killAfterMs === undefined
        ? undefined
        : setTimeout(() => {
            killed = true;
            child.kill('SIGKILL');
          }, extra.killAfterMs);
    await new Promise<void>((resolve) => child.once('close', () => resolve()));
    clearTimeout(killer);
    const closedAt = performance.now();
    const artifacts: Record<string, Buffer> = {};
    for (const name of extra.collect ?? []) {
      try {
        artifacts[name] = readFileSync(join(workDir, name));
      } catch {
        // not produced: the compile failed, and the caller sees the missing artifact
      }
    }

    for (const dir of dirs) {
      for (let attempt = 0; ; attempt += 1) {
        try {
          rmdirSync(dir);
          break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EBUSY' || attempt > 50) throw error;
          await sleep(1);
        }
      }
    }
    const cgroupRemovedAt = performance.now();
    rmSync(workDir, { recursive: true, force: true });
    const endedAt = performance.now();
    return {
      totalMs: endedAt - startedAt,
      cgroupCreateMs: cgroupAt - startedAt,
      workDirCreateMs: workDirAt - cgroupAt,
      spawnToCloseMs: closedAt - workDirAt,
      cgroupRemoveMs: cgroupRemovedAt - closedAt,
      workDirRemoveMs: endedAt - cgroupRemovedAt,
      stdout,
      artifacts,
      killed,
    };
  };

  return {
    run: (program, limits, extra = {}) =>
      step(
        limits,
        (workDir) => [
          options.bwrapPath,
          ...buildBwrapArgs({
            root,
            readOnlyPaths: program.readOnlyPaths,
            workDir,
            writable: extra.writable ?? false,
            env: program.env,
            tmpBytes: limits.tmpBytes,
            uid: options.uid,
            gid: options.gid,
            seccompFd: SECCOMP_FD,
            statusFd: STATUS_FD,
            argv: program.argv,
          }),
        ],
        program.files,
        true,
        extra,
      ),
    joinOnly: (argv, limits, { join }) => step(limits, () => argv, {}, join),
    close: () => {
      for (const parent of parents) {
        try {
          rmdirSync(parent);
        } catch {
          // a step failed to clean up; it is reported where it failed
        }
      }
    },
  };
}
