import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Clock } from '../../platform/clock/clock.ts';
import type { Transaction } from '../../platform/db/database.ts';
import { isAppError } from '../../platform/errors/errors.ts';
import type { Logger } from '../../platform/logger/logger.ts';
import type { ExecutionService } from '../sandbox/sandbox.execution.types.ts';
import {
  batchEmpty,
  batchTooLarge,
  judge0Invalid,
  judge0NotFound,
  judge0QueueFull,
} from './judge0.errors.ts';
import {
  type Judge0Language,
  type Judge0Limits,
  type Judge0Outcome,
  MAX_BATCH_SIZE,
  type NewSubmission,
  outcomeOf,
  parseSubmission,
  STATUS,
  type ValidationErrors,
} from './judge0.models.ts';
import type { Judge0Repository, Judge0Result } from './judge0.repository.ts';
import type { Judge0SubmissionInsert, Judge0SubmissionRow } from './judge0.tables.ts';

/** Unfinished async submissions allowed at once; past it Judge0 answers 503 "queue is full". */
export const MAX_QUEUE_SIZE = 1_000;

/** Tries of one async run when every sandbox is busy, before it is reported as an Internal Error. */
export const RUN_ATTEMPTS = 5;

/** Judge0 CE ids that older clients hard-code for a toolchain Assay offers under another id. */
const ALIASES: Record<string, number[]> = { cpp: [52] };

const SANDBOX_BUSY = 'SANDBOX_BUSY';

/** The stack rlimit programs inherit from this process (Assay sets none of its own). */
function inheritedStackKb(fallbackKb: number): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith('Max stack size'));
    const soft = line?.split(/\s{2,}/)[1];
    if (soft && /^\d+$/.test(soft)) return Math.floor(Number(soft) / 1024);
  } catch {
    // not Linux: say what bounds the stack in practice
  }
  return fallbackKb;
}

export function createJudge0Service(deps: {
  repository: Judge0Repository;
  execution: ExecutionService;
  /** Records the run job in the caller's transaction; returns its dispatch for after the commit. */
  enqueueRun: (tx: Transaction, token: string) => Promise<() => Promise<void>>;
  clock: Clock;
  logger: Logger;
  maxQueueSize?: number;
}) {
  const { repository, execution, clock, logger } = deps;
  const maxQueueSize = deps.maxQueueSize ?? MAX_QUEUE_SIZE;

  const limits = (): Judge0Limits => {
    const run = execution.limits.run;
    const memoryKb = Math.floor(run.memoryBytes / 1024);
    return {
      cpuMs: run.cpuMs,
      wallMs: run.wallMs,
      memoryKb,
      maxCpuMs: execution.limits.maxCpuMs,
      maxWallMs: execution.limits.maxWallMs,
      maxMemoryKb: Math.floor(execution.limits.maxMemoryBytes / 1024),
      processes: run.processes,
      fileSizeKb: Math.floor(run.fileSizeBytes / 1024),
      stackKb: inheritedStackKb(memoryKb),
    };
  };

  async function languages(): Promise<Judge0Language[]> {
    const status = await execution.status();
    if (!status.available) return [];
    const offered: Judge0Language[] = [];
    for (const language of status.languages) {
      if (language.judge0Id === null) continue;
      const name = `${language.name} (${language.version})`;
      for (const id of [language.judge0Id, ...(ALIASES[language.id] ?? [])]) {
        if (!offered.some((item) => item.id === id))
          offered.push({ id, name, language: language.id });
      }
    }
    return offered.sort((a, b) => a.name.localeCompare(b.name) || a.id - b.id);
  }

  const internalOutcome = (message: string): Judge0Outcome => ({
    statusId: STATUS.internalError,
    stdout: null,
    stderr: null,
    compileOutput: null,
    message,
    exitCode: null,
    exitSignal: null,
    timeMs: null,
    wallTimeMs: null,
    memoryKb: null,
  });

  /** Runs one submission; a busy pool throws (the caller retries or answers 503), anything else is status 13. */
  async function execute(submission: NewSubmission, owner: string): Promise<Judge0Outcome> {
    try {
      const result = await execution.execute({
        language: submission.language,
        source: submission.source,
        ...(submission.stdin ? { stdin: submission.stdin } : {}),
        limits: {
          cpuMs: submission.cpuMs,
          wallMs: submission.wallMs,
          memoryBytes: submission.memoryKb * 1024,
        },
        owner,
      });
      return outcomeOf({ result, expectedOutput: submission.expectedOutput });
    } catch (error) {
      if (isAppError(error) && error.code === SANDBOX_BUSY) throw error;
      logger.error({ err: error }, 'judge0 submission could not be run');
      // Judge0 reports its own failures as Internal Error with the reason in `message`.
      return internalOutcome(
        isAppError(error) ? error.message : 'Internal error: the program could not be run',
      );
    }
  }

  const resultColumns = (outcome: Judge0Outcome, finishedAt: Date): Judge0Result => ({
    statusId: outcome.statusId,
    stdout: outcome.stdout,
    stderr: outcome.stderr,
    compileOutput: outcome.compileOutput,
    message: outcome.message,
    exitCode: outcome.exitCode,
    exitSignal: outcome.exitSignal,
    timeMs: outcome.timeMs,
    wallTimeMs: outcome.wallTimeMs,
    memoryKb: outcome.memoryKb,
    finishedAt,
  });

  const rowOf = (options: {
    token: string;
    owner: string;
    submission: NewSubmission;
    createdAt: Date;
  }): Judge0SubmissionInsert => ({
    token: options.token,
    owner: options.owner,
    languageId: options.submission.languageId,
    language: options.submission.language,
    sourceCode: options.submission.source,
    stdin: options.submission.stdin,
    expectedOutput: options.submission.expectedOutput,
    cpuTimeLimitMs: options.submission.cpuMs,
    wallTimeLimitMs: options.submission.wallMs,
    memoryLimitKb: options.submission.memoryKb,
    settings: options.submission.settings,
    statusId: STATUS.queue,
    createdAt: options.createdAt,
  });

  async function checkQueue(adding: number) {
    if ((await repository.pending()) + adding > maxQueueSize) throw judge0QueueFull();
  }

  /** Inserts queued rows and their jobs in one transaction, then hands the jobs to the broker. */
  async function enqueue(rows: Judge0SubmissionInsert[]) {
    const dispatches = await repository.transaction(async (tx) => {
      await repository.insert(tx, rows);
      const pushes: Array<() => Promise<void>> = [];
      for (const row of rows) pushes.push(await deps.enqueueRun(tx, row.token));
      return pushes;
    });
    for (const dispatch of dispatches) await dispatch();
  }

  function validate(
    body: unknown,
    base64: boolean,
    offered: readonly Judge0Language[],
    current: Judge0Limits,
  ) {
    return parseSubmission({ body, base64, languages: offered, limits: current });
  }

  return {
    languages,
    limits,

    async language(id: number): Promise<Judge0Language | undefined> {
      return (await languages()).find((language) => language.id === id);
    },

    /** `GET /config_info`: every key Judge0 1.13 returns, with the values Assay enforces. */
    configInfo() {
      const current = limits();
      return {
        maintenance_mode: false,
        enable_wait_result: true,
        enable_compiler_options: false,
        allowed_languages_for_compile_options: [],
        enable_command_line_arguments: false,
        enable_submission_delete: false,
        enable_callbacks: false,
        callbacks_max_tries: 0,
        callbacks_timeout: 0,
        enable_additional_files: false,
        max_queue_size: maxQueueSize,
        cpu_time_limit: current.cpuMs / 1000,
        max_cpu_time_limit: current.maxCpuMs / 1000,
        cpu_extra_time: 0,
        max_cpu_extra_time: 0,
        wall_time_limit: current.wallMs / 1000,
        max_wall_time_limit: current.maxWallMs / 1000,
        memory_limit: current.memoryKb,
        max_memory_limit: current.maxMemoryKb,
        stack_limit: current.stackKb,
        max_stack_limit: current.stackKb,
        max_processes_and_or_threads: current.processes,
        max_max_processes_and_or_threads: current.processes,
        enable_per_process_and_thread_time_limit: false,
        allow_enable_per_process_and_thread_time_limit: false,
        enable_per_process_and_thread_memory_limit: false,
        allow_enable_per_process_and_thread_memory_limit: false,
        max_file_size: current.fileSizeKb,
        max_max_file_size: current.fileSizeKb,
        number_of_runs: 1,
        max_number_of_runs: 1,
        redirect_stderr_to_stdout: false,
        max_extract_size: 0,
        enable_batched_submissions: true,
        max_submission_batch_size: MAX_BATCH_SIZE,
        submission_cache_duration: 0,
        use_docs_as_homepage: false,
        allow_enable_network: false,
        enable_network: false,
        // Base64 is only used when asked for (base64_encoded=true), as in 1.13.1.
        disable_implicit_base64_encoding: true,
      };
    },

    /**
     * `POST /submissions`. With `wait` the program runs in the request and the finished row is
     * stored; otherwise a queued row and its job are committed together and the token returned.
     */
    async create(options: {
      owner: string;
      body: unknown;
      base64: boolean;
      wait: boolean;
    }): Promise<Judge0SubmissionRow | { token: string }> {
      const current = limits();
      const parsed = validate(options.body, options.base64, await languages(), current);
      if (!parsed.ok) throw judge0Invalid(parsed.errors);
      const token = randomUUID();
      const createdAt = clock.now();
      if (!options.wait) {
        await checkQueue(1);
        await enqueue([
          rowOf({ token, owner: options.owner, submission: parsed.submission, createdAt }),
        ]);
        return { token };
      }
      let outcome: Judge0Outcome;
      try {
        outcome = await execute(parsed.submission, options.owner);
      } catch (error) {
        if (isAppError(error) && error.code === SANDBOX_BUSY) throw judge0QueueFull();
        throw error;
      }
      const [row] = await repository.insert(repository.executor, [
        {
          ...rowOf({ token, owner: options.owner, submission: parsed.submission, createdAt }),
          startedAt: createdAt,
          ...resultColumns(outcome, clock.now()),
        },
      ]);
      if (!row) throw new Error('the finished submission was not stored');
      return row;
    },

    /**
     * `POST /submissions/batch`: each item is validated alone; valid ones are queued together.
     * Judge0 answers `[{ token } | errors]` in request order, 201 when at least one was valid.
     */
    async createBatch(options: {
      owner: string;
      items: unknown;
      base64: boolean;
    }): Promise<{ created: boolean; results: Array<{ token: string } | ValidationErrors> }> {
      const items = Array.isArray(options.items) ? options.items : [];
      if (items.length > MAX_BATCH_SIZE) throw batchTooLarge(MAX_BATCH_SIZE);
      if (items.length === 0) throw batchEmpty();
      const current = limits();
      const offered = await languages();
      const createdAt = clock.now();
      const rows: Judge0SubmissionInsert[] = [];
      const results: Array<{ token: string } | ValidationErrors> = [];
      for (const item of items) {
        const parsed = validate(item, options.base64, offered, current);
        if (!parsed.ok) {
          results.push(parsed.errors);
          continue;
        }
        const token = randomUUID();
        rows.push(rowOf({ token, owner: options.owner, submission: parsed.submission, createdAt }));
        results.push({ token });
      }
      if (rows.length > 0) {
        await checkQueue(rows.length);
        await enqueue(rows);
      }
      return { created: rows.length > 0, results };
    },

    async get(owner: string, token: string): Promise<Judge0SubmissionRow> {
      const row = await repository.find(owner, token);
      if (!row) throw judge0NotFound();
      return row;
    },

    /** In the order asked for; tokens that do not exist (or are someone else's) are null. */
    async getMany(
      owner: string,
      tokens: readonly string[],
    ): Promise<Array<Judge0SubmissionRow | null>> {
      if (tokens.length > MAX_BATCH_SIZE) throw batchTooLarge(MAX_BATCH_SIZE);
      if (tokens.length === 0) throw batchEmpty();
      const rows = await repository.findMany(owner, tokens);
      const byToken = new Map(rows.map((row) => [row.token, row]));
      return tokens.map((token) => byToken.get(token) ?? null);
    },

    /** Forgets finished submissions older than the retention; unfinished ones always stay. */
    async prune(retentionMs: number): Promise<number> {
      return repository.pruneFinished(new Date(clock.now().getTime() - retentionMs));
    },

    /** Its job failed for good: the submission shows Internal Error (13), never Processing forever. */
    async abandon(token: string, reason: string) {
      const written = await repository.abandon(
        token,
        resultColumns(
          internalOutcome(`Internal error: the submission could not be run (${reason})`),
          clock.now(),
        ),
      );
      if (written)
        logger.error({ token, reason }, 'judge0 submission abandoned: its job failed for good');
    },

    /**
     * The `judge0.run` job: claim the row, run it, write the result in the job's own transaction.
     * A finished row is left alone, so a second delivery changes nothing.
     */
    async run(options: {
      token: string;
      attempt: number;
      transaction: <T>(work: (tx: Transaction) => Promise<T>) => Promise<T>;
      logger: Logger;
    }) {
      const row = await repository.claim(options.token, clock.now());
      if (!row) {
        options.logger.info({ token: options.token }, 'judge0 submission already finished');
        return;
      }
      const submission: NewSubmission = {
        languageId: row.languageId,
        language: row.language,
        source: row.sourceCode,
        stdin: row.stdin,
        expectedOutput: row.expectedOutput,
        cpuMs: row.cpuTimeLimitMs,
        wallMs: row.wallTimeLimitMs,
        memoryKb: row.memoryLimitKb,
        settings: row.settings,
      };
      let outcome: Judge0Outcome;
      try {
        outcome = await execute(submission, row.owner);
      } catch (error) {
        if (!(isAppError(error) && error.code === SANDBOX_BUSY) || options.attempt < RUN_ATTEMPTS) {
          throw error;
        }
        outcome = internalOutcome('every sandbox stayed busy; the submission was not run');
      }
      await options.transaction((tx) =>
        repository.finish(tx, options.token, resultColumns(outcome, clock.now())),
      );
      options.logger.info(
        { token: options.token, statusId: outcome.statusId },
        'judge0 submission finished',
      );
    },
  };
}

export type Judge0Service = ReturnType<typeof createJudge0Service>;
