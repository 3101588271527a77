import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from '../../platform/logger/logger.ts';
import {
  capture,
  rlimitArgs,
  type SandboxStep,
  type StepOutcome,
  splitExitStatus,
} from './sandbox.runner.ts';
import { deriveVerdict } from './sandbox.verdict.ts';
import { assertSafeFileName, listNames, readArtifact, removeWorkDir } from './sandbox.workdir.ts';

/**
 * `SANDBOX=unsafe-none`: the step runs as a plain child process of the server, with the
 * server's user and files in reach. For trying Assay on a laptop without root or bubblewrap,
 * never for untrusted code (the config refuses it with NODE_ENV=production). What it still
 * enforces: a fresh directory, an empty environment but the language's, wall time (the whole
 * process group is killed), CPU time, file size and open files by rlimit, and the output caps.
 * What it cannot: memory (neither limited nor measured: reported as 0), processes, network,
 * and a program that leaves its process group survives.
 *
 * The helper sets the rlimits, runs the program, and reports its children's CPU time with the
 * shell's `times` on fd 3. Arguments are positional, never interpolated.
 */
const LIMIT_RUN_TIMES = [
  'ulimit -c 0 && ulimit -n "$1" && ulimit -f "$2" && ulimit -S -t "$3" && ulimit -H -t "$4" || exit 125',
  'shift 4; "$@"; status=$?; times >&3; exit $status',
].join('\n');

/** The children's line of `times` ("0m0.140000s 0m0.040000s"): user + system, in ms. */
export function parseTimes(text: string): number | null {
  const line = text.trim().split('\n')[1];
  const parts = line ? [...line.matchAll(/(\d+)m([\d.]+)s/g)] : [];
  if (parts.length !== 2) return null;
  const ms = parts.reduce(
    (sum, [, minutes, seconds]) => sum + (Number(minutes) * 60 + Number(seconds)) * 1000,
    0,
  );
  return Math.round(ms);
}

const killGroup = (pid: number | undefined) => {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
};

export async function runUnsandboxed(options: {
  step: SandboxStep;
  logger: Logger;
}): Promise<StepOutcome> {
  const { step } = options;
  const { limits } = step;
  const dir = await mkdtemp(join(tmpdir(), `assay-unsafe-${step.kind}-`));
  const started = performance.now();
  try {
    for (const [name, file] of Object.entries(step.files)) {
      assertSafeFileName(name);
      await writeFile(join(dir, name), file.content, {
        flag: 'wx',
        mode: file.executable ? 0o755 : 0o644,
      });
    }
    const child = spawn(
      '/bin/sh',
      ['-c', LIMIT_RUN_TIMES, 'assay-unsafe', ...rlimitArgs(limits), ...step.argv],
      {
        cwd: dir,
        env: { ...step.env, TMPDIR: dir, HOME: dir },
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      },
    );
    let killedFor: 'wall' | 'output' | null = null;
    const stop = (reason: 'wall' | 'output') => {
      killedFor ??= reason;
      killGroup(child.pid);
    };
    const stdout = capture(child.stdout, limits.outputBytes, (total) => {
      if (total > limits.outputBytes) stop('output');
    });
    const stderr = capture(child.stderr, limits.stderrBytes, (total) => {
      if (total > limits.outputBytes) stop('output');
    });
    const times = capture(child.stdio[3] as Readable, 4096, () => undefined);
    child.stdin.on('error', () => undefined);
    child.stdin.end(step.stdin ?? '');
    const timer = setTimeout(() => stop('wall'), limits.wallMs);
    const code = await new Promise<number | null>((resolve) => {
      child.once('error', () => resolve(null));
      child.once('close', (exitCode, signal) =>
        resolve(signal ? 128 + (osConstants.signals[signal] ?? 9) : exitCode),
      );
    });
    clearTimeout(timer);
    killGroup(child.pid);
    await Promise.all([stdout.ended, stderr.ended, times.ended]);
    const wallMs = Math.round(performance.now() - started);
    const cpuMs = parseTimes(times.bytes().toString('utf8')) ?? wallMs;
    const { exitCode, signal } =
      code === null ? { exitCode: null, signal: null } : splitExitStatus(code);
    const outcome = deriveVerdict({
      kind: step.kind,
      harnessError: code === null || code === 125,
      killedFor,
      oomKilled: false,
      cpuMs,
      cpuLimitMs: limits.cpuMs,
      exitCode,
      signal,
      processesLimitHit: false,
    });
    const result = {
      verdict: outcome.verdict,
      limitExceeded: outcome.limitExceeded,
      exitCode,
      signal,
      cpuMs,
      wallMs,
      memoryBytes: 0,
      stdout: stdout.bytes(),
      stderr: stderr.bytes(),
      stdoutTruncated: stdout.truncated(),
      stderrTruncated: stderr.truncated(),
    };
    if (result.verdict === 'internal_error')
      options.logger.error({ kind: step.kind, code }, 'unsandboxed step did not run');
    const artifacts: Record<string, Buffer> = {};
    if (result.verdict === 'ok' && step.collect) {
      const extra = step.collect.suffix
        ? ((await listNames(dir, step.collect.suffix, 256)) ?? [])
        : [];
      for (const name of new Set([...step.collect.names, ...extra])) {
        const read = await readArtifact({ dir, name, maxBytes: step.collect.maxBytes });
        if (!read.ok)
          return {
            result: {
              ...result,
              verdict: 'compile_error',
              stderr: Buffer.from(`${name}: ${read.reason}\n`),
            },
            artifacts: {},
          };
        artifacts[name] = read.content;
      }
    }
    return { result, artifacts };
  } finally {
    await removeWorkDir(dir);
  }
}
