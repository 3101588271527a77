import { availableParallelism } from 'node:os';
import type { Config } from '../../platform/config/config.ts';
import type { Logger } from '../../platform/logger/logger.ts';
import { languageNotAvailable, sandboxBusy, sandboxUnavailable } from './sandbox.errors.ts';
import type {
  ExecutionRequest,
  ExecutionResult,
  ExecutionService,
  SandboxStatus,
  TestsOutcome,
  TestsRequest,
} from './sandbox.execution.types.ts';
import { detectSandboxHost, type SandboxHost } from './sandbox.host.ts';
import { LANGUAGES, type LanguageSpec } from './sandbox.languages.ts';
import { DEFAULT_COMPILE_LIMITS, DEFAULT_RUN_LIMITS } from './sandbox.limits.ts';
import { createFairPool, PoolFullError } from './sandbox.pool.ts';
import { selfTestSandbox } from './sandbox.selftest.ts';
import { createSandboxService, type SandboxService } from './sandbox.service.ts';
import { probeToolchains } from './sandbox.toolchains.ts';
import type { Limits, RunResult } from './sandbox.types.ts';
import { runUnsandboxed } from './sandbox.unsafe.ts';

const MiB = 1024 * 1024;

/** The `SANDBOX*` settings (config.ts), without the runs route's rate limit. */
export type ExecutionSettings = Omit<Config['sandbox'], 'runsPerMinute' | 'submissionsPerMinute'>;

/** A sandbox started ahead and not used within this is removed (it holds a cgroup and 2 processes). */
const START_AHEAD_IDLE_MS = 60_000;

type Ready =
  | { ok: true; status: SandboxStatus; service: SandboxService; close: () => Promise<void> }
  | { ok: false; status: SandboxStatus };

/**
 * The one way code is run: detection once (host, start-up self-test, toolchains), then every
 * run through a fair pool sized to the machine. Without working isolation nothing runs, and
 * `status()` says why.
 */
export function createExecutionService(options: {
  settings: ExecutionSettings;
  logger: Logger;
  /** Host paths the self-test proves invisible (see `hiddenHostPaths`). */
  hiddenPaths: readonly string[];
  /** Where toolchain locators run (the app's directory, for its own TypeScript). */
  appDir: string;
  hostPath: string;
  languages?: readonly LanguageSpec[];
  detectHost?: () => Promise<SandboxHost>;
}): ExecutionService {
  const { settings } = options;
  const logger = options.logger.child({ module: 'sandbox' });
  const run: Limits = {
    ...DEFAULT_RUN_LIMITS,
    cpuMs: settings.cpuMs,
    wallMs: settings.wallMs,
    memoryBytes: settings.memoryMb * MiB,
    processes: settings.processes,
    outputBytes: settings.outputBytes,
  };
  const limits = {
    run,
    compile: DEFAULT_COMPILE_LIMITS,
    maxCpuMs: settings.maxCpuMs,
    maxWallMs: settings.maxWallMs,
    maxMemoryBytes: settings.maxMemoryMb * MiB,
  };
  const poolSize = settings.poolSize ?? availableParallelism();
  const pool = createFairPool({ size: poolSize, maxQueued: settings.queueMax });
  const startAhead = settings.startAhead ?? poolSize;

  const closing = new AbortController();
  const detect = async (): Promise<Ready> => {
    const down = (reason: string): Ready => {
      logger.error({ reason }, 'code execution is unavailable: no run will be accepted');
      return {
        ok: false,
        status: {
          available: false,
          reason,
          mode: settings.mode,
          languages: [],
          compiled: [],
          missing: [],
          features: null,
        },
      };
    };
    const probe = async () => {
      const toolchains = await probeToolchains(options.languages ?? LANGUAGES, {
        timeoutMs: 10_000,
        cwd: options.appDir,
        hostPath: options.hostPath,
        signal: closing.signal,
        mount: settings.mode === 'bwrap',
      });
      for (const missing of toolchains.missing)
        logger.debug({ language: missing.id, reason: missing.reason }, 'language not offered');
      return {
        specs: toolchains.present.map((toolchain) => toolchain.spec),
        languages: toolchains.present.map((toolchain) => toolchain.info),
        compiled: toolchains.present
          .filter((toolchain) => toolchain.spec.compile)
          .map((toolchain) => toolchain.info.id),
        missing: toolchains.missing,
      };
    };
    if (settings.mode === 'unsafe-none') {
      const reason =
        'SANDBOX=unsafe-none: code runs WITHOUT isolation, as the server user with its files and network in reach; never use this for untrusted code';
      logger.warn({ sandbox: settings.mode }, reason);
      const { specs, ...found } = await probe();
      const service = createSandboxService({
        runStep: (step) => runUnsandboxed({ step, logger }),
        logger,
        languages: specs,
      });
      return {
        ok: true,
        service,
        close: async () => undefined,
        status: { available: true, reason, mode: settings.mode, ...found, features: null },
      };
    }
    let host: SandboxHost;
    try {
      host = await (options.detectHost ?? detectSandboxHost)();
    } catch (error) {
      return down((error as Error).message);
    }
    const failed = await selfTestSandbox({ host, logger, hiddenPaths: options.hiddenPaths }).catch(
      (error: unknown) => `self-test could not run: ${(error as Error).message}`,
    );
    if (failed) {
      await host.close();
      return down(failed);
    }
    const { specs, ...found } = await probe();
    const service = createSandboxService({
      host,
      logger,
      languages: specs,
      ...(startAhead > 0
        ? { startAhead: { capacity: startAhead, idleMs: START_AHEAD_IDLE_MS } }
        : {}),
    });
    return {
      ok: true,
      service,
      close: async () => {
        await service.close();
        await host.close();
      },
      status: {
        available: true,
        reason: null,
        mode: settings.mode,
        ...found,
        features: {
          bubblewrap: host.features.version,
          cgroup: host.cgroups.version === 2 ? 'v2' : 'v1',
          seccomp: `${process.arch} deny list (${host.seccomp.length / 8} instructions)`,
          uid: host.uid,
          selfTest: 'passed',
        },
      },
    };
  };
  let ready: Promise<Ready> | undefined;
  let settled: SandboxStatus | undefined;
  const readyOnce = () => {
    ready ??= detect().then((state) => {
      settled = state.status;
      return state;
    });
    return ready;
  };

  /** The ready sandbox, if it can run this language; else the error the caller should see. */
  const admit = async (language: string) => {
    const state = await readyOnce();
    if (!state.ok) throw sandboxUnavailable(state.status.reason ?? undefined);
    const offered = state.status.languages.map((candidate) => candidate.id);
    if (!offered.includes(language)) throw languageNotAvailable(language, offered);
    return state;
  };

  const inPool = async <T>(owner: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await pool.run(owner, work);
    } catch (error) {
      if (error instanceof PoolFullError) {
        const { running, queued } = pool.stats();
        // Roughly how long the line ahead takes at a second per run.
        throw sandboxBusy(Math.min(60, Math.max(1, Math.ceil(queued / Math.max(1, running)))));
      }
      throw error;
    }
  };

  /**
   * The sandbox the runs will use starts while the program compiles (if none is started yet); for
   * a single run only when nothing else runs, by the service's rule for runs.
   */
  const startWhileCompiling = (
    state: Extract<Ready, { ok: true }>,
    language: string,
    limits: Limits,
    forSingleRun: boolean,
  ) => {
    if (state.status.compiled.includes(language)) {
      state.service.startAhead({ language, limits, forSingleRun });
    }
  };

  const compileOutputOf = (compile: RunResult | null) =>
    compile ? Buffer.concat([compile.stdout, compile.stderr]) : null;

  async function execute(request: ExecutionRequest): Promise<ExecutionResult> {
    const state = await admit(request.language);
    return inPool(request.owner, async () => {
      const runLimits = { ...run, ...request.limits };
      startWhileCompiling(state, request.language, runLimits, true);
      const prepared = await state.service.prepare({
        language: request.language,
        source: request.source,
      });
      const outcome = prepared.ok
        ? await state.service.run({
            program: prepared.program,
            ...(request.stdin === undefined ? {} : { stdin: request.stdin }),
            limits: runLimits,
          })
        : prepared.compile;
      return {
        status: outcome.verdict,
        stdout: prepared.ok ? outcome.stdout : Buffer.alloc(0),
        stderr: prepared.ok ? outcome.stderr : Buffer.alloc(0),
        compileOutput: compileOutputOf(prepared.compile),
        exitCode: outcome.exitCode,
        signal: outcome.signal,
        cpuMs: outcome.cpuMs,
        wallMs: outcome.wallMs,
        memoryBytes: outcome.memoryBytes,
        limitExceeded: outcome.limitExceeded,
        stdoutTruncated: outcome.stdoutTruncated,
        stderrTruncated: outcome.stderrTruncated,
      };
    });
  }

  async function executeTests(request: TestsRequest): Promise<TestsOutcome> {
    const state = await admit(request.language);
    // One slot for the whole submission: compile once, then every test in order.
    return inPool(request.owner, async () => {
      const runLimits = { ...run, ...request.limits };
      startWhileCompiling(state, request.language, runLimits, false);
      const prepared = await state.service.prepare({
        language: request.language,
        source: request.source,
      });
      const compile = prepared.compile
        ? { status: prepared.compile.verdict, output: compileOutputOf(prepared.compile)! }
        : null;
      if (!prepared.ok) return { compile, tests: [] };
      // Per-submission mode: every test in one sandbox, each from a clean slate.
      const tests = await state.service.runMany({
        program: prepared.program,
        tests: request.tests.map((test) => ({ stdin: test.stdin })),
        limits: runLimits,
        ...(request.onTest ? { onResult: request.onTest } : {}),
      });
      return { compile, tests };
    });
  }

  return {
    status: async () => (await readyOnce()).status,
    executeTests,
    peek: () => {
      void readyOnce();
      return settled;
    },
    execute,
    limits,
    close: async () => {
      closing.abort();
      if (!ready) return;
      const state = await ready;
      if (state.ok) await state.close();
    },
  };
}
