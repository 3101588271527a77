import { availableParallelism } from 'node:os';
import type { Readable } from 'node:stream';
import type { Logger } from '../../platform/logger/logger.ts';
import type { EventCounts, StepCgroup } from './sandbox.cgroup.ts';
import {
  createFrameParser,
  type EndRecord,
  encodeKill,
  encodeTestCommand,
  MAX_STDIN_BYTES,
  type SupervisorFrame,
} from './sandbox.frames.ts';
import type { SandboxHost } from './sandbox.host.ts';
import { limitsProblem } from './sandbox.limits.ts';
import {
  capture,
  emptyResult,
  runInSandbox,
  type SandboxStep,
  signalName,
  spawnSandboxed,
} from './sandbox.runner.ts';
import { SUPERVISOR_PATH, supervisorBinary } from './sandbox.supervisor.ts';
import type { Limits, RunResult } from './sandbox.types.ts';
import { deriveVerdict } from './sandbox.verdict.ts';
import { createWorkDir, removeWorkDir, writeStepFiles } from './sandbox.workdir.ts';

/** What may differ between the tests of one batch; the rest is the sandbox's (one cgroup, one tmpfs). */
export type TestLimits = Pick<Limits, 'cpuMs' | 'wallMs' | 'outputBytes' | 'stderrBytes'>;

export interface BatchTest {
  stdin?: Buffer | string;
  limits?: Partial<TestLimits>;
}

/** The program of a batch: a run step without its input. */
export type BatchProgram = Omit<SandboxStep, 'kind' | 'stdin' | 'collect'>;

/** bwrap's monitor outside the sandbox and the supervisor (pid 1) inside. */
const SUPERVISOR_PROCESSES = 2;
const START_TIMEOUT_MS = 10_000;
/** How long the supervisor has to end a test after a kill, or past the wall limit, before the host kills the sandbox. */
const KILL_GRACE_MS = 1000;
const SUPERVISOR_STDERR_BYTES = 4096;

/** Why the sandbox cannot take the next test: `fresh` runs the rest in fresh sandboxes. */
type Lost = { kind: 'fresh' | 'broken'; reason: string } | null;

/**
 * Runs the tests of one submission in ONE sandbox, in order, through the supervisor (pid 1,
 * supervisor/supervisor.c): one cgroup, one work directory and one bwrap for all of them, and
 * for every test a fresh process tree, fresh pipes, an empty /tmp and /dev/shm, no SysV IPC
 * objects and no surviving process of the test before (sandbox.spec.md, "Per-submission mode").
 * One result per test, in order. Never throws.
 *
 * When the sandbox stops being usable (the supervisor died, was made to change, or stopped
 * answering) the remaining tests run in fresh sandboxes (`runInSandbox`), so every verdict is one
 * a fresh sandbox would give; a protocol violation is a harness failure: the remaining tests are
 * `internal_error` (logged).
 */
export async function runBatch(options: {
  host: SandboxHost;
  program: BatchProgram;
  tests: readonly BatchTest[];
  logger: Logger;
  /**
   * A sandbox started earlier for this program's shape (`startBatchSandbox`), not yet used: the
   * batch takes it over (and removes it) instead of starting one.
   */
  sandbox?: BatchSandbox;
  /** Called as each test's result is known, in order (progress for the judge's events). */
  onResult?: (index: number, result: RunResult) => void | Promise<void>;
}): Promise<RunResult[]> {
  const { host, program, tests } = options;
  const logger = options.logger.child({ component: 'sandbox', kind: 'batch' });
  const limitsOf = (test: BatchTest): Limits => ({ ...program.limits, ...test.limits });
  const results: RunResult[] = [];
  const record = async (result: RunResult) => {
    results.push(result);
    await options.onResult?.(results.length - 1, result);
  };
  let lost: Lost = null;
  let sandbox: BatchSandbox | null = null;
  try {
    if (options.sandbox) {
      // Throws, without taking it, when another batch has it: that batch's sandbox stays alone.
      options.sandbox.claim();
      sandbox = options.sandbox;
      if (sandbox.key !== batchShapeKey(program)) {
        throw new BrokenBatch('the started sandbox is for another program shape');
      }
    }
    for (const test of tests) {
      const problem = limitsProblem(limitsOf(test));
      if (problem) throw new BrokenBatch(`invalid sandbox limits: ${problem}`);
      if (Buffer.byteLength(test.stdin ?? '') > MAX_STDIN_BYTES) {
        throw new BrokenBatch('a test input is larger than 4 GiB');
      }
    }
    if (tests.length === 0) return [];
    if (!sandbox) {
      sandbox = await startBatchSandbox({ host, shape: program, logger: options.logger });
      sandbox.claim();
    }
    // Written before the first test, while only the (trusted) supervisor runs in the sandbox.
    await writeStepFiles(sandbox.workDir, program.files);
    await sandbox.ready;
    for (const [seq, test] of tests.entries()) {
      const outcome = await sandbox.session.runTest({ seq, test, limits: limitsOf(test), logger });
      lost = outcome.lost;
      if (outcome.result) await record(outcome.result);
      if (lost) break;
    }
  } catch (error) {
    lost = { kind: error instanceof BrokenBatch ? 'broken' : 'fresh', reason: String(error) };
    logger.error({ err: error, cgroup: sandbox?.cgroup.id }, 'sandbox batch failed in the harness');
  } finally {
    await sandbox?.dispose();
  }
  if (lost && results.length < tests.length) {
    const rest = tests.length - results.length;
    if (lost.kind === 'broken') {
      logger.error({ reason: lost.reason, tests: rest }, 'sandbox batch abandoned');
      for (let index = 0; index < rest; index += 1) await record(emptyResult());
    } else {
      logger.warn(
        { reason: lost.reason, tests: rest },
        'sandbox batch continues in fresh sandboxes',
      );
      for (const test of tests.slice(results.length)) {
        const { result } = await runInSandbox({
          host,
          logger: options.logger,
          step: {
            ...program,
            kind: 'run',
            limits: limitsOf(test),
            ...(test.stdin === undefined ? {} : { stdin: test.stdin }),
          },
        });
        await record(result);
      }
    }
  }
  return results;
}

/** What a batch sandbox is started with: a program without its files. */
export type BatchShape = Omit<BatchProgram, 'files'>;

/**
 * Batches whose programs have equal keys can use each other's sandboxes: the same command, the
 * same environment and binds, the same sandbox-wide limits (per-test limits do not count).
 */
export function batchShapeKey(shape: BatchShape): string {
  const { limits } = shape;
  return JSON.stringify([
    shape.argv,
    Object.entries(shape.env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    shape.readOnlyPaths ?? [],
    limits.memoryBytes,
    limits.processes,
    limits.tmpBytes,
    limits.openFiles,
    limits.fileSizeBytes,
  ]);
}

/**
 * A per-submission sandbox: its cgroup, its work directory (empty until a batch writes its
 * program's files) and the supervisor, waiting for the first test. Used by one batch only.
 */
export interface BatchSandbox {
  readonly key: string;
  readonly cgroup: StepCgroup;
  readonly workDir: string;
  readonly session: Session;
  /** Settles when the supervisor said it is ready (or could not start). */
  readonly ready: Promise<void>;
  /** False once the sandbox has exited or is being removed. */
  alive(): boolean;
  /** Marks it used; throws if a batch already took it (a sandbox serves one batch only). */
  claim(): void;
  /** Ends the sandbox and removes its cgroup and work directory. Never throws. */
  dispose(): Promise<void>;
}

/**
 * Starts the sandbox of a batch before its program is known (starting one is most of a small
 * batch's cost: the cgroup moves, bwrap's mounts), so that it can be done while the machine
 * waits, or while the program compiles. Nothing of a user runs in it until a batch sends a test.
 */
export async function startBatchSandbox(options: {
  host: SandboxHost;
  shape: BatchShape;
  logger: Logger;
}): Promise<BatchSandbox> {
  const { host, shape } = options;
  const logger = options.logger.child({ component: 'sandbox', kind: 'batch' });
  const problem = limitsProblem(shape.limits);
  if (problem) throw new Error(`invalid sandbox limits: ${problem}`);
  const binary = await supervisorBinary(host);
  const cgroup = host.cgroups.create({
    limits: {
      memoryBytes: shape.limits.memoryBytes,
      processes: shape.limits.processes + SUPERVISOR_PROCESSES,
    },
  });
  let workDir: string | null = null;
  let session: Session | null = null;
  let disposed: Promise<void> | null = null;
  const dispose = () => {
    disposed ??= (async () => {
      await session?.close();
      try {
        await cgroup.destroy();
      } catch (error) {
        logger.error({ err: error, cgroup: cgroup.id }, 'sandbox cgroup not removed');
      }
      if (workDir)
        await removeWorkDir(workDir).catch((error: unknown) => {
          logger.error({ err: error }, 'sandbox work directory not removed');
        });
    })();
    return disposed;
  };
  try {
    workDir = await createWorkDir({
      workRoot: host.workRoot,
      prefix: 'batch',
      files: {},
      uid: host.uid,
      gid: host.gid,
      writable: false,
    });
    session = startSession({ host, shape, cgroup, workDir, binary });
  } catch (error) {
    await dispose();
    throw error;
  }
  const ready = session.ready();
  // Awaited by the batch that uses it; a sandbox that never gets used must not reject unheard.
  ready.catch(() => undefined);
  const started = session;
  let claimed = false;
  return {
    key: batchShapeKey(shape),
    cgroup,
    workDir,
    session: started,
    ready,
    alive: () => disposed === null && !started.exited(),
    claim: () => {
      if (claimed) throw new BrokenBatch('this sandbox already served a batch');
      claimed = true;
    },
    dispose,
  };
}

class BrokenBatch extends Error {
  override name = 'BrokenBatch';
}

interface Session {
  ready(): Promise<void>;
  exited(): boolean;
  runTest(options: {
    seq: number;
    test: BatchTest;
    limits: Limits;
    logger: Logger;
  }): Promise<{ result: RunResult | null; lost: Lost }>;
  close(): Promise<void>;
}

function startSession(options: {
  host: SandboxHost;
  shape: BatchShape;
  cgroup: StepCgroup;
  workDir: string;
  binary: string;
}): Session {
  const { host, shape: program, cgroup } = options;
  const { limits } = program;
  let harnessError: unknown = null;
  const spawned = spawnSandboxed({
    host,
    cgroup,
    workDir: options.workDir,
    writable: false,
    env: program.env,
    readOnlyPaths: program.readOnlyPaths ?? [],
    tmpBytes: limits.tmpBytes,
    // The supervisor's own CPU is not limited by rlimit (it is trusted and counted in the
    // cgroup); every test gets its own RLIMIT_CPU backstop from it.
    rlimits: [
      String(limits.openFiles),
      String(Math.ceil(limits.fileSizeBytes / 512)),
      'unlimited',
      'unlimited',
    ],
    argv: [SUPERVISOR_PATH, '--', ...program.argv],
    init: { binary: options.binary, path: SUPERVISOR_PATH },
    extraPipes: 1,
    onHarnessError: (error) => {
      harnessError ??= error;
    },
  });
  const control = spawned.extra[0]!;
  const stderr = capture(spawned.stderr, SUPERVISOR_STDERR_BYTES, () => undefined);
  capture(spawned.status, 64 * 1024, () => undefined);
  const frames = frameQueue(spawned.stdout);
  let exited = false;
  void spawned.exited.then(() => {
    exited = true;
  });

  const describe = (what: string) =>
    `${what}${harnessError ? ` (${String(harnessError)})` : ''}: ${stderr.bytes().toString('utf8').slice(0, 500)}`;

  const ready = async () => {
    let timer: NodeJS.Timeout | undefined;
    const first = await Promise.race([
      frames.next(),
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), START_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
    if (first === 'timeout') throw new Error(describe('the supervisor did not start in time'));
    if (frames.error()) throw new BrokenBatch(String(frames.error()));
    if (first?.type === 'fatal') throw new Error(`the supervisor failed: ${first.message}`);
    if (first?.type !== 'ready') throw new Error(describe('the sandbox did not start'));
  };

  const runTest: Session['runTest'] = async ({ seq, test, limits: testLimits, logger }) => {
    const stdin = Buffer.from(test.stdin ?? '');
    cgroup.resetPeak();
    const cpuBefore = cgroup.cpuUsageMs();
    const eventsBefore = cgroup.eventCounts();
    const cpuBackstop = Math.ceil(testLimits.cpuMs / 1000) + 1;
    const floodBytes = Math.max(testLimits.outputBytes, testLimits.stderrBytes);
    spawned.stdin.write(
      encodeTestCommand({
        seq,
        stdinBytes: stdin.length,
        wallMs: testLimits.wallMs,
        cpuSoftSeconds: cpuBackstop,
        cpuHardSeconds: cpuBackstop + 1,
        stdoutCap: testLimits.outputBytes,
        stderrCap: testLimits.stderrBytes,
        floodCap: floodBytes,
      }),
    );
    if (stdin.length > 0) spawned.stdin.write(stdin);

    // The host's part: the CPU watchdog (the supervisor cannot see the cgroup) and backstops for
    // a supervisor that does not end the test when it should.
    let hostKilled: 'cpu' | 'wall' | null = null;
    let unresponsive = false;
    let graceTimer: NodeJS.Timeout | null = null;
    const abandon = () => {
      unresponsive = true;
      cgroup.killAll().catch((error: unknown) => {
        harnessError ??= error;
      });
    };
    const parallelism = availableParallelism();
    let cpuTimer: NodeJS.Timeout | null = null;
    const watchCpu = () => {
      try {
        cgroup.sampleMemory();
        const used = cgroup.cpuUsageMs() - cpuBefore;
        if (used >= testLimits.cpuMs) {
          hostKilled ??= 'cpu';
          control.write(encodeKill(seq));
          graceTimer ??= setTimeout(abandon, KILL_GRACE_MS);
          return;
        }
        const due = (testLimits.cpuMs - used) / parallelism;
        cpuTimer = setTimeout(watchCpu, Math.min(250, Math.max(10, due)));
      } catch (error) {
        harnessError ??= error;
        abandon();
      }
    };
    cpuTimer = setTimeout(watchCpu, Math.min(250, Math.max(10, testLimits.cpuMs / parallelism)));
    const wallTimer = setTimeout(() => {
      hostKilled ??= 'wall';
      abandon();
    }, testLimits.wallMs + KILL_GRACE_MS);

    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let end: EndRecord | null = null;
    let lost: Lost = null;
    for (;;) {
      const frame = await frames.next();
      if (frame === null) {
        const error = frames.error();
        lost = error
          ? { kind: 'broken', reason: String(error) }
          : { kind: 'fresh', reason: describe('the supervisor ended during a test') };
        break;
      }
      if (frame.type === 'stdout' || frame.type === 'stderr') {
        const isOut = frame.type === 'stdout';
        const kept = isOut ? outBytes : errBytes;
        const cap = isOut ? testLimits.outputBytes : testLimits.stderrBytes;
        if (kept + frame.data.length > cap) {
          lost = { kind: 'broken', reason: `the supervisor sent more ${frame.type} than its cap` };
          break;
        }
        (isOut ? out : err).push(frame.data);
        if (isOut) outBytes += frame.data.length;
        else errBytes += frame.data.length;
        continue;
      }
      if (frame.type === 'end' && frame.end.seq === seq) {
        end = frame.end;
        break;
      }
      if (frame.type === 'fatal') {
        lost = { kind: 'fresh', reason: `the supervisor failed: ${frame.message}` };
        break;
      }
      lost = { kind: 'broken', reason: `unexpected ${frame.type} frame during test ${seq}` };
      break;
    }
    clearTimeout(wallTimer);
    if (cpuTimer) clearTimeout(cpuTimer);
    if (graceTimer) clearTimeout(graceTimer);

    if (lost?.kind === 'broken') {
      logger.error({ reason: lost.reason, cgroup: cgroup.id }, 'sandbox supervisor protocol error');
      await cgroup.killAll().catch(() => undefined);
      return { result: emptyResult(), lost };
    }
    if (lost || unresponsive) await cgroup.killAll().catch(() => undefined);
    cgroup.sampleMemory();
    const cpuMs = cgroup.cpuUsageMs() - cpuBefore;
    const memoryBytes = cgroup.memoryPeakBytes();
    const events = difference(cgroup.eventCounts(), eventsBefore);
    if (end && !lost && !unresponsive) {
      // Checked by the host too: after a test only bwrap's monitor and the supervisor remain.
      const left = cgroup.pids().length;
      if (left > SUPERVISOR_PROCESSES) {
        lost = { kind: 'fresh', reason: `${left} processes left after test ${seq}` };
        await cgroup.killAll().catch(() => undefined);
      } else if (end.tainted) {
        lost = { kind: 'fresh', reason: 'the sandbox is no longer fresh' };
      }
    } else if (unresponsive && !lost) {
      lost = { kind: 'fresh', reason: `the supervisor did not end test ${seq} in time` };
    }

    let status: { exitCode: number | null; signal: string | null };
    if (end?.kind === 'exited') status = { exitCode: end.value, signal: null };
    else if (end?.kind === 'signaled')
      status = { exitCode: null, signal: signalName(end.value) ?? `SIG${end.value}` };
    else status = { exitCode: null, signal: 'SIGKILL' };
    const killedFor = end?.killedFor ?? hostKilled;
    const oomKilled =
      events.oomKills === null
        ? events.memoryLimitHits > 0 && status.signal === 'SIGKILL' && killedFor === null
        : events.oomKills > 0;
    // Without an end record the test's fate is known only when the cause is: the OOM killer or
    // the host's own kill. Otherwise it runs again, in a fresh sandbox, with the rest.
    if (!end && !oomKilled && killedFor === null) return { result: null, lost };
    const execFailed = end?.kind === 'exec_failed';
    if (execFailed || harnessError) {
      logger.error(
        {
          err: harnessError ?? new Error(`the program could not be started (errno ${end?.value})`),
          cgroup: cgroup.id,
        },
        'sandbox harness failure',
      );
    }
    const { verdict, limitExceeded } = deriveVerdict({
      kind: 'run',
      harnessError: execFailed || harnessError !== null,
      killedFor,
      oomKilled,
      cpuMs,
      cpuLimitMs: testLimits.cpuMs,
      exitCode: status.exitCode,
      signal: status.signal,
      processesLimitHit: events.processesLimitHits > 0,
    });
    const stdout = Buffer.concat(out, outBytes);
    return {
      result: {
        verdict,
        exitCode: status.exitCode,
        signal: status.signal,
        cpuMs: Math.round(cpuMs),
        wallMs: Math.round((end?.wallUs ?? 0) / 1000),
        memoryBytes,
        stdout,
        stderr: Buffer.concat(err, errBytes),
        stdoutTruncated: end?.stdoutTruncated ?? false,
        stderrTruncated: end?.stderrTruncated ?? false,
        limitExceeded,
      },
      lost,
    };
  };

  const close = async () => {
    spawned.stdin.end();
    control.end();
    if (!exited) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        spawned.exited,
        new Promise((resolve) => {
          timer = setTimeout(resolve, 1000);
        }),
      ]);
      clearTimeout(timer);
    }
  };

  return { ready, exited: () => exited, runTest, close };
}

function difference(now: EventCounts, before: EventCounts): EventCounts {
  return {
    oomKills:
      now.oomKills === null || before.oomKills === null ? null : now.oomKills - before.oomKills,
    memoryLimitHits: now.memoryLimitHits - before.memoryLimitHits,
    processesLimitHits: now.processesLimitHits - before.processesLimitHits,
  };
}

/** The supervisor's frames, one at a time; null once its stdout ended or lost its framing. */
function frameQueue(stream: Readable) {
  const parser = createFrameParser();
  const queue: SupervisorFrame[] = [];
  let ended = false;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const notify = () => {
    const resolve = wake;
    wake = null;
    resolve?.();
  };
  stream.on('data', (chunk: Buffer) => {
    try {
      queue.push(...parser.push(chunk));
    } catch (error) {
      failure = error as Error;
      stream.destroy();
    }
    notify();
  });
  for (const event of ['end', 'close', 'error']) {
    stream.on(event, () => {
      ended = true;
      notify();
    });
  }
  return {
    async next(): Promise<SupervisorFrame | null> {
      for (;;) {
        if (failure) return null;
        const frame = queue.shift();
        if (frame) return frame;
        if (ended) return null;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    },
    error: () => failure,
  };
}
