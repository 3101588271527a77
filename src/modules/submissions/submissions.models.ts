import { storableText } from '../../platform/db/storable-text.ts';
import type { RunResult, Verdict as RunVerdict } from '../sandbox/sandbox.types.ts';
import { type CheckerName, check } from './submissions.checkers.ts';

/** A test's verdict, as the judge reports it. */
export const TEST_VERDICTS = [
  'accepted',
  'wrong_answer',
  'time_limit_exceeded',
  'memory_limit_exceeded',
  'runtime_error',
  'output_limit_exceeded',
  'internal_error',
] as const;
export type TestVerdict = (typeof TEST_VERDICTS)[number];

/** A submission's verdict: its first failing test's, a failed compile, or accepted. */
export const VERDICTS = [...TEST_VERDICTS, 'compilation_error'] as const;
export type SubmissionVerdict = (typeof VERDICTS)[number];

export const STATUSES = ['queued', 'running', 'completed', 'failed'] as const;
export type SubmissionStatus = (typeof STATUSES)[number];

/** What the judge keeps of one test. `stdout` and the first difference only for public tests. */
export type TestOutcome = {
  index: number;
  hidden: boolean;
  weight: number;
  verdict: TestVerdict;
  timeMs: number;
  memoryKb: number;
  /** Public tests only: what the program printed (capped). */
  stdout?: string;
  /** Public tests only: where a wrong answer first differs from the expected output. */
  difference?: { line: number; expected: string | null; actual: string | null };
  /** Public tests only: the program's stderr (capped), for the runtime-error feedback. */
  stderr?: string;
  exitCode?: number | null;
  signal?: string | null;
  limitExceeded?: string | null;
};

/** How much of a public test's output is kept to show the student. */
export const SHOWN_OUTPUT_BYTES = 4 * 1024;

const RUN_TO_TEST: Record<Exclude<RunVerdict, 'ok' | 'compile_error'>, TestVerdict> = {
  runtime_error: 'runtime_error',
  time_limit_exceeded: 'time_limit_exceeded',
  memory_limit_exceeded: 'memory_limit_exceeded',
  output_limit_exceeded: 'output_limit_exceeded',
  internal_error: 'internal_error',
};

/** A program's output as text to store and show (checkers compare the real bytes). */
export const displayText = (bytes: Buffer) => storableText(bytes.toString('utf8'));

const shown = (bytes: Buffer) => displayText(bytes.subarray(0, SHOWN_OUTPUT_BYTES));
const shownLine = (line: string | null) => (line === null ? null : storableText(line));

/** One test's outcome from its run and the checker. Hidden tests keep only verdict and measures. */
export function judgeTest(options: {
  index: number;
  hidden: boolean;
  weight: number;
  run: RunResult;
  expected: Buffer;
  checker: CheckerName;
  floatTolerance: number | null;
}): TestOutcome {
  const { run } = options;
  let verdict: TestVerdict;
  let difference: TestOutcome['difference'];
  if (run.verdict === 'ok') {
    const outcome = check(
      options.checker,
      options.expected.toString('utf8'),
      run.stdout.toString('utf8'),
      {
        ...(options.floatTolerance === null ? {} : { floatTolerance: options.floatTolerance }),
      },
    );
    verdict = outcome.pass ? 'accepted' : 'wrong_answer';
    if (!outcome.pass)
      difference = {
        line: outcome.line,
        expected: shownLine(outcome.expected),
        actual: shownLine(outcome.actual),
      };
  } else {
    // A run step never reports compile_error; if it did, it is the harness's fault.
    verdict = run.verdict === 'compile_error' ? 'internal_error' : RUN_TO_TEST[run.verdict];
  }
  const base = {
    index: options.index,
    hidden: options.hidden,
    weight: options.weight,
    verdict,
    timeMs: run.cpuMs,
    memoryKb: Math.round(run.memoryBytes / 1024),
  };
  if (options.hidden) return base;
  return {
    ...base,
    stdout: shown(run.stdout),
    stderr: shown(run.stderr),
    exitCode: run.exitCode,
    signal: run.signal,
    limitExceeded: run.limitExceeded,
    ...(difference ? { difference } : {}),
  };
}

/** The first failing test's verdict, in order, else accepted (the judge refuses to judge no tests). */
export function overallVerdict(tests: readonly TestOutcome[]): TestVerdict {
  return tests.find((test) => test.verdict !== 'accepted')?.verdict ?? 'accepted';
}

/**
 * `points` × the weighted share of passed tests, rounded to hundredths. Weights only split the
 * points: when every test weighs 0, passing them all earns the points (an accepted submission
 * never scores 0 of them), and no tests at all earns nothing.
 */
export function scoreOf(tests: readonly TestOutcome[], points: number): number {
  const total = tests.reduce((sum, test) => sum + test.weight, 0);
  if (total <= 0) return tests.length > 0 && overallVerdict(tests) === 'accepted' ? points : 0;
  const passed = tests
    .filter((test) => test.verdict === 'accepted')
    .reduce((sum, test) => sum + test.weight, 0);
  return Math.round((points * passed * 100) / total) / 100;
}
