import type { LimitName, Limits, RunResult, Verdict } from './sandbox.types.ts';

/** A language whose toolchain answered its version probe on this machine. */
export interface AvailableLanguage {
  id: string;
  name: string;
  /** What the toolchain printed of its version, e.g. `3.11.2`. */
  version: string;
  /** The Judge0 CE language id for this toolchain, when Judge0 has one. */
  judge0Id: number | null;
}

/** Whether this process can run code, and with what. */
export interface SandboxStatus {
  available: boolean;
  /** Why not, when it cannot (no bubblewrap, no root, a failed self-test, …). */
  reason: string | null;
  /** `bwrap` normally; `unsafe-none` only for local experiments. */
  mode: 'bwrap' | 'unsafe-none';
  languages: AvailableLanguage[];
  /** Ids of the languages that compile before they run. */
  compiled: string[];
  /** Languages not offered here, and why (for `assay doctor`). */
  missing: Array<{ id: string; reason: string }>;
  /** What isolation was found, when the sandbox works. */
  features: {
    bubblewrap: string;
    cgroup: 'v1' | 'v2';
    seccomp: string;
    uid: number;
    selfTest: 'passed';
  } | null;
}

/** One program, compiled if its language needs it, then run once. */
export interface ExecutionRequest {
  language: string;
  source: string | Buffer;
  stdin?: string | Buffer;
  /** Run limits over the defaults (already checked against the maxima). */
  limits?: Partial<Limits>;
  /** Whose run this is: the pool serves owners in turn, so one user cannot starve others. */
  owner: string;
}

export interface ExecutionResult {
  status: Verdict;
  stdout: Buffer;
  stderr: Buffer;
  /** The compiler's output (stdout and stderr), when the language compiles. */
  compileOutput: Buffer | null;
  exitCode: number | null;
  signal: string | null;
  cpuMs: number;
  wallMs: number;
  memoryBytes: number;
  limitExceeded: LimitName | null;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
}

/** One submission against its tests: compiled once, then every test run in order. */
export interface TestsRequest {
  language: string;
  source: string | Buffer;
  tests: ReadonlyArray<{ stdin: string | Buffer }>;
  limits?: Partial<Limits>;
  owner: string;
  /** Called after each test, in order (progress events). */
  onTest?: (index: number, result: RunResult) => void | Promise<void>;
}

export interface TestsOutcome {
  /** Null for languages that do not compile; `status` other than `ok` means no test ran. */
  compile: { status: Verdict; output: Buffer } | null;
  tests: RunResult[];
}

/** Runs untrusted programs through the machine's pool of sandboxes (`deps.execution`). */
export interface ExecutionService {
  /** Waits for start-up detection (sandbox host, self-test, toolchain probes) the first time. */
  status(): Promise<SandboxStatus>;
  /** The status if detection has finished, else undefined (and detection is started). */
  peek(): SandboxStatus | undefined;
  /**
   * Compiles and runs in the pool. Throws `sandboxUnavailable` (503), `languageNotAvailable`
   * (400) or `sandboxBusy` (503 with retry-after); user-code failures are statuses, not throws.
   */
  execute(request: ExecutionRequest): Promise<ExecutionResult>;
  /** Same errors as `execute`; the pool slot is held for the whole submission. */
  executeTests(request: TestsRequest): Promise<TestsOutcome>;
  /** The defaults and the most a request may ask for. */
  readonly limits: {
    run: Limits;
    compile: Limits;
    maxCpuMs: number;
    maxWallMs: number;
    maxMemoryBytes: number;
  };
  close(): Promise<void>;
}
