import type { RunResult } from '../sandbox/sandbox.types.ts';

/** A run as the sandbox reports it: a clean exit printing `42`, unless told otherwise. */
export const runResult = (overrides: Partial<RunResult> = {}): RunResult => ({
  verdict: 'ok',
  exitCode: 0,
  signal: null,
  cpuMs: 12,
  wallMs: 30,
  memoryBytes: 2048 * 1024,
  stdout: Buffer.from('42\n'),
  stderr: Buffer.alloc(0),
  stdoutTruncated: false,
  stderrTruncated: false,
  limitExceeded: null,
  ...overrides,
});
