/** What one sandboxed step (a compile or a run) may use. Every field is enforced, not advisory. */
export interface Limits {
  /** CPU time of all processes together, from cgroup accounting. */
  cpuMs: number;
  /** Wall-clock time from spawn to exit; a sleeping program is stopped by this one. */
  wallMs: number;
  /** Real memory as the cgroup counts it (RSS, page cache, tmpfs), swap included. */
  memoryBytes: number;
  /** Processes and threads together (the pids cgroup counts threads). */
  processes: number;
  /** RLIMIT_NOFILE of every process. */
  openFiles: number;
  /** RLIMIT_FSIZE: the largest file a process may write (rounded up to 512 bytes). */
  fileSizeBytes: number;
  /** stdout cap: past it the run is stopped with `output_limit_exceeded`. */
  outputBytes: number;
  /** stderr cap: past it stderr is dropped and flagged; a flood beyond `outputBytes` stops the run. */
  stderrBytes: number;
  /** Size of the private tmpfs mounted on `/tmp` (and `/dev/shm`). */
  tmpBytes: number;
}

export const VERDICTS = [
  'ok',
  'compile_error',
  'runtime_error',
  'time_limit_exceeded',
  'memory_limit_exceeded',
  'output_limit_exceeded',
  'internal_error',
] as const;
export type Verdict = (typeof VERDICTS)[number];

/** The limit that stopped a step, as `limitExceeded` in the runs API. */
export type LimitName = 'cpu' | 'wall' | 'memory' | 'processes' | 'output' | 'file_size';

export interface RunResult {
  verdict: Verdict;
  /** Exit code of the program; null when it died of a signal or never ran. */
  exitCode: number | null;
  /** Signal name (`SIGSEGV`, `SIGKILL`, …) when the program died of one. */
  signal: string | null;
  /** CPU time of every process of the step, from the cgroup (bwrap's own setup included, ~1–2 ms). */
  cpuMs: number;
  /** Wall time from spawn to exit. */
  wallMs: number;
  /** Peak memory of the step as the cgroup counts it. */
  memoryBytes: number;
  stdout: Buffer;
  stderr: Buffer;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  limitExceeded: LimitName | null;
}

export type StepKind = 'compile' | 'run';

/** A file the host writes into a step's fresh work directory before the step starts. */
export interface StepFile {
  content: Buffer | string;
  executable?: boolean;
}
