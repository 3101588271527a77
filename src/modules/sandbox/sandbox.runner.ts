import { spawn } from 'node:child_process';
import { availableParallelism, constants as osConstants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../../platform/logger/logger.ts';
import { buildBwrapArgs, type ReadOnlyPath } from './sandbox.bwrap.ts';
import type { StepCgroup } from './sandbox.cgroup.ts';
import type { SandboxHost } from './sandbox.host.ts';
import { limitsProblem } from './sandbox.limits.ts';
import type { Limits, RunResult, StepFile, StepKind } from './sandbox.types.ts';
import { deriveVerdict } from './sandbox.verdict.ts';
import { createWorkDir, listNames, readArtifact, removeWorkDir } from './sandbox.workdir.ts';

/** Java leaves a class file per inner class; a compile leaving more is refused. */
const MAX_SUFFIX_ARTIFACTS = 256;

export interface SandboxStep {
  kind: StepKind;
  /** The command inside the sandbox (absolute toolchain paths; the work directory is `/box`). */
  argv: readonly string[];
  /** Written by the host into the step's fresh work directory before the step starts. */
  files: Readonly<Record<string, StepFile>>;
  stdin?: Buffer | string;
  limits: Limits;
  /** The whole environment of the program (nothing of the host's is passed on). */
  env: Readonly<Record<string, string>>;
  /** Extra read-only paths the toolchain needs, bound when they exist. */
  readOnlyPaths?: readonly ReadOnlyPath[];
  /** Files to take out of the work directory when the step succeeds (a compiler's output). */
  collect?: {
    names: readonly string[];
    /** Also every top-level file whose name ends so (Java's inner classes), up to a count. */
    suffix?: string;
    /** Per file, and for all of them together. */
    maxBytes: number;
  };
}

export interface StepOutcome {
  result: RunResult;
  /** The collected files; only filled when the step's verdict is `ok`. */
  artifacts: Record<string, Buffer>;
}

/**
 * A fixed helper, never built from input: it writes its own pid into each cgroup given before
 * `--`, so that it and everything it execs is inside the step's cgroups before any of it runs,
 * sets the rlimits (`ulimit` is POSIX sh: `-f` counts 512-byte blocks), then execs the rest of
 * its arguments. Arguments are positional, never interpolated. 125: the sandbox never started.
 */
const JOIN_LIMIT_EXEC = [
  'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift',
  'ulimit -c 0 && ulimit -n "$1" && ulimit -f "$2" && ulimit -S -t "$3" && ulimit -H -t "$4" || exit 125',
  'shift 4; exec "$@"',
].join('\n');

const SECCOMP_FD = 3;
const STATUS_FD = 4;

export const signalName = (number: number): string | null =>
  Object.entries(osConstants.signals).find(([, value]) => value === number)?.[0] ?? null;

/** bwrap reports a child killed by signal N as exit code 128 + N, like a shell. */
export function splitExitStatus(code: number): { exitCode: number | null; signal: string | null } {
  if (code > 128 && code < 128 + 65) {
    const name = signalName(code - 128);
    if (name) return { exitCode: null, signal: name };
  }
  return { exitCode: code, signal: null };
}

/** `{ "child-pid": N, … }` when the sandbox started, `{ "exit-code": N }` when it ended. */
function parseStatus(text: string): { started: boolean; exitCode: number | null } {
  const exit = /"exit-code"\s*:\s*(-?\d+)/.exec(text);
  return { started: /"child-pid"\s*:/.test(text), exitCode: exit ? Number(exit[1]) : null };
}

/** Collects up to `cap` bytes of a stream; reports each chunk's size so floods can be stopped. */
export function capture(stream: Readable, cap: number, onBytes: (total: number) => void) {
  const chunks: Buffer[] = [];
  let kept = 0;
  let total = 0;
  stream.on('data', (chunk: Buffer) => {
    total += chunk.length;
    if (kept < cap) {
      const part = chunk.length <= cap - kept ? chunk : chunk.subarray(0, cap - kept);
      chunks.push(part);
      kept += part.length;
    }
    onBytes(total);
  });
  const ended = new Promise<void>((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
  });
  return {
    ended,
    bytes: () => Buffer.concat(chunks, kept),
    truncated: () => total > cap,
  };
}

/** RLIMIT_NOFILE, RLIMIT_FSIZE (512-byte blocks) and RLIMIT_CPU soft and hard, as the helper takes them. */
export function rlimitArgs(limits: Limits): string[] {
  // A backstop only: the cgroup watchdog stops the step at its CPU limit first.
  const cpuSeconds = Math.ceil(limits.cpuMs / 1000) + 1;
  return [
    String(limits.openFiles),
    String(Math.ceil(limits.fileSizeBytes / 512)),
    String(cpuSeconds),
    String(cpuSeconds + 1),
  ];
}

/**
 * bwrap's own processes (its monitor outside and the init of the pid namespace) count against
 * the pids limit too; they are not the program's.
 */
const BWRAP_PROCESSES = 2;

export const emptyResult = (wallMs = 0): RunResult => ({
  verdict: 'internal_error',
  exitCode: null,
  signal: null,
  cpuMs: 0,
  wallMs,
  memoryBytes: 0,
  stdout: Buffer.alloc(0),
  stderr: Buffer.alloc(0),
  stdoutTruncated: false,
  stderrTruncated: false,
  limitExceeded: null,
});

/**
 * Runs one step (a compile or a run) in a fresh bwrap sandbox, in a fresh cgroup and a fresh
 * work directory, and reports what it did. User-code failures are verdicts; a failure of the
 * harness is `internal_error` and logged. Never throws.
 */
export async function runInSandbox(options: {
  host: SandboxHost;
  step: SandboxStep;
  logger: Logger;
}): Promise<StepOutcome> {
  const { host, step } = options;
  const logger = options.logger.child({ component: 'sandbox', kind: step.kind });
  let cgroup: StepCgroup | null = null;
  let workDir: string | null = null;
  try {
    const problem = limitsProblem(step.limits);
    if (problem) throw new Error(`invalid sandbox limits: ${problem}`);
    cgroup = host.cgroups.create({
      limits: {
        memoryBytes: step.limits.memoryBytes,
        processes: step.limits.processes + BWRAP_PROCESSES,
      },
    });
    workDir = await createWorkDir({
      workRoot: host.workRoot,
      prefix: step.kind,
      files: step.files,
      uid: host.uid,
      gid: host.gid,
      writable: step.kind === 'compile',
    });
    const result = await execute({ host, step, cgroup, workDir, logger });
    const artifacts: Record<string, Buffer> = {};
    if (result.verdict === 'ok' && step.collect) {
      const extra = step.collect.suffix
        ? await listNames(workDir, step.collect.suffix, MAX_SUFFIX_ARTIFACTS)
        : [];
      if (extra === null) {
        return {
          result: {
            ...result,
            verdict: 'compile_error',
            stderr: Buffer.concat([result.stderr, Buffer.from('\ntoo many output files\n')]),
          },
          artifacts: {},
        };
      }
      const names = [...new Set([...step.collect.names, ...extra])];
      let total = 0;
      for (const name of names) {
        const read = await readArtifact({
          dir: workDir,
          name,
          maxBytes: step.collect.maxBytes - total,
        });
        if (read.ok) total += read.content.length;
        if (!read.ok) {
          return {
            result: {
              ...result,
              verdict: 'compile_error',
              limitExceeded: read.reason === 'too_large' ? 'file_size' : null,
              stderr: Buffer.concat([result.stderr, Buffer.from(`\n${name}: ${read.reason}\n`)]),
            },
            artifacts: {},
          };
        }
        artifacts[name] = read.content;
      }
    }
    return { result, artifacts };
  } catch (error) {
    logger.error({ err: error, cgroup: cgroup?.id }, 'sandbox step failed in the harness');
    return { result: emptyResult(), artifacts: {} };
  } finally {
    await cleanUp({ cgroup, workDir, readOnly: step.kind === 'run', logger });
  }
}

async function cleanUp(options: {
  cgroup: StepCgroup | null;
  workDir: string | null;
  /** A run's directory was bound read-only: it holds only the files the host wrote. */
  readOnly: boolean;
  logger: Logger;
}) {
  try {
    await options.cgroup?.destroy();
  } catch (error) {
    options.logger.error({ err: error, cgroup: options.cgroup?.id }, 'sandbox cgroup not removed');
  }
  try {
    if (options.workDir) await removeWorkDir(options.workDir, { readOnly: options.readOnly });
  } catch (error) {
    options.logger.error({ err: error }, 'sandbox work directory not removed');
  }
}

export interface SandboxedProcess {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** bwrap's JSON status (`child-pid`, then `exit-code`). */
  status: Readable;
  /** The pipes asked for with `extraPipes`, as fds 5, 6, … of the program. */
  extra: Writable[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Spawns the fixed helper that joins `cgroup` and sets the rlimits, which execs bwrap as the
 * sandbox user with the step's mounts and seccomp filter. A failure to start or to hand over the
 * filter goes to `onHarnessError`; the process is then reported as exited with neither code nor
 * signal.
 */
export function spawnSandboxed(options: {
  host: SandboxHost;
  cgroup: StepCgroup;
  workDir: string;
  writable: boolean;
  env: Readonly<Record<string, string>>;
  readOnlyPaths: readonly ReadOnlyPath[];
  tmpBytes: number;
  /** `ulimit` values in the helper's order (see `rlimitArgs`). */
  rlimits: readonly string[];
  argv: readonly string[];
  /** A host binary bound read-only at `path` and run as pid 1 of the sandbox (`--as-pid-1`). */
  init?: { binary: string; path: string };
  extraPipes?: number;
  onHarnessError: (error: unknown) => void;
}): SandboxedProcess {
  const { host, cgroup } = options;
  const bwrapArgs = buildBwrapArgs({
    root: host.root,
    readOnlyPaths: options.readOnlyPaths,
    workDir: options.workDir,
    writable: options.writable,
    env: options.env,
    tmpBytes: options.tmpBytes,
    uid: host.uid,
    gid: host.gid,
    seccompFd: SECCOMP_FD,
    statusFd: STATUS_FD,
    argv: options.argv,
    ...(options.init
      ? { asPid1: true, binds: [{ source: options.init.binary, dest: options.init.path }] }
      : {}),
  });
  // On cgroup v1 the helper itself runs as the sandbox user and joins the step's cgroups, which
  // were handed to that user; on v2 it joins as root and setpriv drops to the user before bwrap.
  // Either way bwrap runs unprivileged, so its user namespace maps the sandbox uid to itself and
  // nothing inside is root on the host.
  const joinsUnprivileged = cgroup.allowJoinAs({ uid: host.uid, gid: host.gid });
  if (!joinsUnprivileged && !host.setprivPath) throw new Error('setpriv is needed on cgroup v2');
  const args = [
    '-c',
    JOIN_LIMIT_EXEC,
    'assay-sandbox',
    ...cgroup.procsFiles,
    '--',
    ...options.rlimits,
    ...(joinsUnprivileged
      ? []
      : [host.setprivPath!, `--reuid=${host.uid}`, `--regid=${host.gid}`, '--clear-groups', '--']),
    host.bwrapPath,
    ...bwrapArgs,
  ];

  const extraPipes = options.extraPipes ?? 0;
  const child = spawn(host.shPath, args, {
    stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe', ...Array<'pipe'>(extraPipes).fill('pipe')],
    env: {},
    cwd: '/',
    // libuv drops supplementary groups, then sets gid and uid, before it execs the helper.
    ...(joinsUnprivileged ? { uid: host.uid, gid: host.gid } : {}),
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => {
      options.onHarnessError(error);
      resolve({ code: null, signal: null });
    });
  });

  const [stdin, stdout, stderr, seccompStream, status, ...extra] = child.stdio as [
    Writable,
    Readable,
    Readable,
    Writable,
    Readable,
    ...Writable[],
  ];
  // The program may exit without reading its input, or close it: not the harness's problem.
  stdin.on('error', () => undefined);
  for (const pipe of extra) pipe.on('error', () => undefined);
  seccompStream.on('error', options.onHarnessError);
  seccompStream.end(host.seccomp);
  return { stdin, stdout, stderr, status, extra, exited };
}

async function execute(options: {
  host: SandboxHost;
  step: SandboxStep;
  cgroup: StepCgroup;
  workDir: string;
  logger: Logger;
}): Promise<RunResult> {
  const { host, step, cgroup, logger } = options;
  const { limits } = step;
  let killedFor: 'cpu' | 'wall' | 'output' | null = null;
  let harnessError: unknown = null;
  let killing: Promise<void> | null = null;
  let exitedAlready = false;
  const kill = (reason: 'cpu' | 'wall' | 'output') => {
    killedFor ??= reason;
    // After the exit the final sweep below kills what is left; two sweeps must not interleave.
    if (exitedAlready) return;
    killing ??= cgroup.killAll().catch((error: unknown) => {
      harnessError ??= error;
    });
  };

  const startedAt = performance.now();
  const {
    exited,
    stdin: stdinStream,
    stdout: stdoutStream,
    stderr: stderrStream,
    status: statusStream,
  } = spawnSandboxed({
    host,
    cgroup,
    workDir: options.workDir,
    writable: step.kind === 'compile',
    env: step.env,
    readOnlyPaths: step.readOnlyPaths ?? [],
    tmpBytes: limits.tmpBytes,
    rlimits: rlimitArgs(limits),
    argv: step.argv,
    onHarnessError: (error) => {
      harnessError ??= error;
    },
  });
  stdinStream.end(step.stdin ?? '');

  const floodBytes = Math.max(limits.outputBytes, limits.stderrBytes);
  const stdout = capture(stdoutStream, limits.outputBytes, (total) => {
    if (total > limits.outputBytes) {
      stdoutStream.destroy();
      kill('output');
    }
  });
  const stderr = capture(stderrStream, limits.stderrBytes, (total) => {
    if (total > floodBytes) {
      stderrStream.destroy();
      kill('output');
    }
  });
  const status = capture(statusStream, 64 * 1024, () => undefined);

  const wallTimer = setTimeout(() => kill('wall'), limits.wallMs);
  // CPU can grow at most `parallelism` ms per ms, so the next look is due when even that could
  // not have crossed the limit; close to the limit that is every 10 ms.
  const parallelism = availableParallelism();
  let cpuTimer: NodeJS.Timeout | null = null;
  const watchCpu = () => {
    try {
      cgroup.sampleMemory();
      const used = cgroup.cpuUsageMs();
      if (used >= limits.cpuMs) {
        kill('cpu');
        return;
      }
      const due = (limits.cpuMs - used) / parallelism;
      cpuTimer = setTimeout(watchCpu, Math.min(250, Math.max(10, due)));
    } catch (error) {
      harnessError ??= error;
      kill('wall');
    }
  };
  cpuTimer = setTimeout(watchCpu, Math.min(250, Math.max(10, limits.cpuMs / parallelism)));

  const exit = await exited;
  exitedAlready = true;
  const wallMs = performance.now() - startedAt;
  clearTimeout(wallTimer);
  if (cpuTimer) clearTimeout(cpuTimer);

  // The program's own exit ends the step: whatever it left running dies now, and only then are
  // its pipes drained to the end (a background process could otherwise hold them open).
  try {
    await killing;
    await cgroup.killAll();
  } catch (error) {
    harnessError ??= error;
  }
  let drainTimer: NodeJS.Timeout | undefined;
  const drained = await Promise.race([
    Promise.all([stdout.ended, stderr.ended, status.ended]).then(() => true),
    new Promise<boolean>((resolve) => {
      drainTimer = setTimeout(() => resolve(false), 2000);
    }),
  ]);
  clearTimeout(drainTimer);
  if (!drained) {
    for (const stream of [stdoutStream, stderrStream, statusStream]) stream.destroy();
    harnessError ??= new Error('sandbox pipes stayed open after every process died');
  }

  cgroup.sampleMemory();
  const cpuMs = cgroup.cpuUsageMs();
  const memoryBytes = cgroup.memoryPeakBytes();
  const oomKills = cgroup.oomKills();
  const processesLimitHit = cgroup.processesLimitHit();
  const bwrapStatus = parseStatus(status.bytes().toString('utf8'));

  let exitStatus: { exitCode: number | null; signal: string | null };
  if (bwrapStatus.exitCode !== null) exitStatus = splitExitStatus(bwrapStatus.exitCode);
  else if (exit.signal) exitStatus = { exitCode: null, signal: exit.signal };
  else exitStatus = { exitCode: exit.code, signal: null };

  const oomKilled =
    oomKills === null
      ? cgroup.memoryLimitHit() && exitStatus.signal === 'SIGKILL' && killedFor === null
      : oomKills > 0;
  // Without an exit record bwrap never got the program going (a mount, the seccomp load) or
  // died itself, unless the harness or the OOM killer stopped it.
  if (bwrapStatus.exitCode === null && killedFor === null && !oomKilled && harnessError === null) {
    harnessError = new Error(
      `bwrap ended without an exit status (${bwrapStatus.started ? 'started' : 'never started'}, ` +
        `code ${exit.code}, signal ${exit.signal}): ${stderr.bytes().toString('utf8').slice(0, 500)}`,
    );
  }
  if (harnessError !== null) {
    logger.error({ err: harnessError, cgroup: cgroup.id }, 'sandbox harness failure');
  }

  const { verdict, limitExceeded } = deriveVerdict({
    kind: step.kind,
    harnessError: harnessError !== null,
    killedFor,
    oomKilled,
    cpuMs,
    cpuLimitMs: limits.cpuMs,
    exitCode: exitStatus.exitCode,
    signal: exitStatus.signal,
    processesLimitHit,
  });
  return {
    verdict,
    exitCode: exitStatus.exitCode,
    signal: exitStatus.signal,
    cpuMs: Math.round(cpuMs),
    wallMs: Math.round(wallMs),
    memoryBytes,
    stdout: stdout.bytes(),
    stderr: stderr.bytes(),
    stdoutTruncated: stdout.truncated(),
    stderrTruncated: stderr.truncated(),
    limitExceeded,
  };
}
