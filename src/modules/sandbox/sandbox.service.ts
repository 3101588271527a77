import type { Logger } from '../../platform/logger/logger.ts';
import { type BatchShape, type BatchTest, runBatch } from './sandbox.batch.ts';
import type { SandboxHost } from './sandbox.host.ts';
import { BASE_ENV, expandArgv, LANGUAGES, type LanguageSpec } from './sandbox.languages.ts';
import {
  DEFAULT_COMPILE_LIMITS,
  DEFAULT_RUN_LIMITS,
  MAX_ARTIFACT_BYTES,
} from './sandbox.limits.ts';
import { runInSandbox, type SandboxStep, type StepOutcome } from './sandbox.runner.ts';
import { createStartAheadPool } from './sandbox.start-ahead.ts';
import type { Limits, RunResult, StepFile } from './sandbox.types.ts';

/** What a compile leaves for the runs: the files each run's fresh work directory starts with. */
export interface Program {
  readonly language: string;
  readonly files: Readonly<Record<string, StepFile>>;
}

export type PrepareOutcome =
  | { ok: true; program: Program; compile: RunResult | null }
  | { ok: false; compile: RunResult };

const withFloors = (language: LanguageSpec, limits: Limits): Limits =>
  language.minOpenFiles && limits.openFiles < language.minOpenFiles
    ? { ...limits, openFiles: language.minOpenFiles }
    : limits;

/**
 * Compile once, run many: `prepare` compiles (for languages that need it) in its own sandbox and
 * keeps only the expected artifacts in memory; every `run` starts from a fresh directory holding
 * just those files.
 */
export function createSandboxService(
  deps: {
    logger: Logger;
    languages?: readonly LanguageSpec[];
  } & (
    | {
        host: SandboxHost;
        /**
         * Start per-submission sandboxes ahead of need (sandbox.start-ahead.ts): up to
         * `capacity` kept, each removed after `idleMs` unused. Off unless given.
         */
        startAhead?: { capacity: number; idleMs: number };
      }
    /** How a step runs without bwrap (`SANDBOX=unsafe-none`, see sandbox.unsafe.ts). */
    | { runStep: (step: SandboxStep) => Promise<StepOutcome> }
  ),
) {
  const languages = deps.languages ?? LANGUAGES;
  const logger = deps.logger.child({ module: 'sandbox' });
  const runStep =
    'host' in deps
      ? (step: SandboxStep) => runInSandbox({ host: deps.host, logger, step })
      : deps.runStep;
  const ahead =
    'host' in deps && deps.startAhead
      ? createStartAheadPool({ host: deps.host, logger, ...deps.startAhead })
      : null;

  /** Runs and batches in flight: a single run starts the next sandbox ahead only at zero. */
  let running = 0;

  const languageOf = (id: string) => {
    const language = languages.find((candidate) => candidate.id === id);
    if (!language) throw new Error(`unknown language ${id}`);
    return language;
  };

  async function prepare(options: {
    language: string;
    source: string | Buffer;
    limits?: Partial<Limits>;
  }): Promise<PrepareOutcome> {
    const language = languageOf(options.language);
    const source: StepFile = { content: options.source };
    if (!language.compile) {
      return {
        ok: true,
        program: { language: language.id, files: { [language.sourceFile]: source } },
        compile: null,
      };
    }
    const limits = withFloors(language, { ...DEFAULT_COMPILE_LIMITS, ...options.limits });
    const { result, artifacts } = await runStep({
      kind: 'compile',
      argv: expandArgv(language.compile.argv, limits),
      files: { [language.sourceFile]: source },
      limits,
      env: { ...BASE_ENV, ...language.env },
      readOnlyPaths: language.readOnlyPaths ?? [],
      collect: {
        names: language.compile.artifacts,
        ...(language.compile.suffix ? { suffix: language.compile.suffix } : {}),
        maxBytes: MAX_ARTIFACT_BYTES,
      },
    });
    if (result.verdict !== 'ok') return { ok: false, compile: result };
    const files: Record<string, StepFile> = {};
    for (const [name, content] of Object.entries(artifacts)) {
      files[name] = { content, executable: true };
    }
    return { ok: true, program: { language: language.id, files }, compile: result };
  }

  /**
   * One run in a fresh sandbox. With `startAhead`, that sandbox is one started before the run was
   * asked for when there is one of its shape (sandbox.start-ahead.ts): never used before,
   * removed after this run, so the run is as fresh as in a sandbox of its own, without waiting
   * for bwrap and the cgroup moves. Afterwards the next one of the same shape is started, but
   * only when nothing else runs: a run in a started sandbox costs more CPU than one in a sandbox
   * of its own (the supervisor, its protocol), which buys latency on an idle machine and costs
   * throughput on a busy one (bench/RESULTS.md, sandbox).
   */
  async function run(options: {
    program: Program;
    stdin?: string | Buffer;
    limits?: Partial<Limits>;
  }): Promise<RunResult> {
    const language = languageOf(options.program.language);
    const limits = withFloors(language, { ...DEFAULT_RUN_LIMITS, ...options.limits });
    const stdin = options.stdin === undefined ? {} : { stdin: options.stdin };
    const shape = batchShape(language, limits);
    const inFreshSandbox = async () =>
      (await runStep({ kind: 'run', ...shape, files: options.program.files, ...stdin })).result;
    if (!ahead || !('host' in deps)) return inFreshSandbox();
    running += 1;
    try {
      const sandbox = await ahead.take(shape);
      if (!sandbox) return await inFreshSandbox();
      const [result] = await runBatch({
        host: deps.host,
        logger,
        tests: [stdin],
        sandbox,
        program: { ...shape, files: options.program.files },
      });
      return result!;
    } finally {
      running -= 1;
      if (running === 0) ahead.prepare(shape);
    }
  }

  /** The sandbox-wide part of a language's batch at these limits (its program without files). */
  const batchShape = (language: LanguageSpec, limits: Limits): BatchShape => ({
    argv: expandArgv(language.run, limits),
    limits,
    env: { ...BASE_ENV, ...language.env },
    readOnlyPaths: language.readOnlyPaths ?? [],
  });

  /**
   * Runs every test of one program in one sandbox (sandbox.batch.ts): one result per test, in
   * order. `limits` are the sandbox's; a test may change its CPU, wall and output limits. Without
   * a host (`SANDBOX=unsafe-none`) the tests run one by one. With `startAhead`, a sandbox started
   * earlier for the same shape is used when there is one, and the next is started afterwards.
   */
  async function runMany(options: {
    program: Program;
    tests: readonly BatchTest[];
    limits?: Partial<Limits>;
    onResult?: (index: number, result: RunResult) => void | Promise<void>;
  }): Promise<RunResult[]> {
    const language = languageOf(options.program.language);
    const limits = withFloors(language, { ...DEFAULT_RUN_LIMITS, ...options.limits });
    if (!('host' in deps)) {
      const results: RunResult[] = [];
      for (const test of options.tests) {
        const result = await run({
          program: options.program,
          ...(test.stdin === undefined ? {} : { stdin: test.stdin }),
          limits: { ...limits, ...test.limits },
        });
        results.push(result);
        await options.onResult?.(results.length - 1, result);
      }
      return results;
    }
    const shape = batchShape(language, limits);
    running += 1;
    try {
      const sandbox = await ahead?.take(shape);
      return await runBatch({
        host: deps.host,
        logger,
        tests: options.tests,
        ...(sandbox ? { sandbox } : {}),
        ...(options.onResult ? { onResult: options.onResult } : {}),
        program: { ...shape, files: options.program.files },
      });
    } finally {
      running -= 1;
      // A batch needs a sandbox anyway: starting the next one early moves work, it adds none.
      ahead?.prepare(shape);
    }
  }

  /**
   * Starts the sandbox a `run` or `runMany` of this language at these limits will use, in the
   * background (with `startAhead`; otherwise nothing): called before a compile. `forSingleRun`
   * follows `run`'s rule: only when nothing else runs.
   */
  function startAhead(options: {
    language: string;
    limits?: Partial<Limits>;
    forSingleRun?: boolean;
  }): void {
    if (!ahead || (options.forSingleRun && running > 0)) return;
    const language = languageOf(options.language);
    ahead.prepare(
      batchShape(language, withFloors(language, { ...DEFAULT_RUN_LIMITS, ...options.limits })),
    );
  }

  return {
    languages: () => languages,
    prepare,
    run,
    runMany,
    startAhead,
    /** Settles once no sandbox is being started ahead (benchmarks wait for it before timing). */
    startedAhead: async () => {
      await ahead?.settled();
      return ahead?.size() ?? 0;
    },
    /** Removes the sandboxes started ahead. */
    close: async () => {
      await ahead?.close();
    },
  };
}

export type SandboxService = ReturnType<typeof createSandboxService>;
