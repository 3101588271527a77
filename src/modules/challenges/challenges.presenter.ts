import type { ChallengeRow, ChallengeTestRow } from './challenges.tables.ts';

/** How much of a test's input or output a response carries; the sizes say what is left out. */
export const PREVIEW_BYTES = 64 * 1024;

/** A test with the bytes read from storage. */
export type LoadedTest = { row: ChallengeTestRow; input: Buffer; expectedOutput: Buffer };

const preview = (data: Buffer) => data.subarray(0, PREVIEW_BYTES).toString('utf8');

const testData = (test: LoadedTest) => ({
  id: test.row.id,
  index: test.row.position,
  input: preview(test.input),
  expectedOutput: preview(test.expectedOutput),
  inputBytes: test.row.inputBytes,
  expectedOutputBytes: test.row.outputBytes,
  truncated: test.row.inputBytes > PREVIEW_BYTES || test.row.outputBytes > PREVIEW_BYTES,
});

/** What lists show: no statement, starter code or tests. */
export function presentSummary(row: ChallengeRow, testCaseCount: number) {
  return {
    id: row.id,
    title: row.title,
    difficulty: row.difficulty,
    languages: row.languages,
    timeLimitMs: row.timeLimitMs,
    memoryLimitMb: row.memoryLimitMb,
    checker: row.checker,
    ...(row.floatTolerance !== null ? { floatTolerance: row.floatTolerance } : {}),
    points: Number(row.points),
    testCaseCount,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/**
 * The one place that decides what of a challenge's tests a caller sees. Everyone gets the
 * public tests as `examples`; only staff get `testCases`, hidden ones included. Callers pass
 * students only public tests (their hidden data is never even read), and this filters again.
 */
export function presentChallenge(
  row: ChallengeRow,
  tests: LoadedTest[],
  audience: 'staff' | 'student',
  testCaseCount: number,
) {
  const examples = tests.filter((test) => !test.row.hidden).map(testData);
  return {
    ...presentSummary(row, testCaseCount),
    statement: row.statement,
    starterCode: row.starterCode,
    examples,
    ...(audience === 'staff'
      ? {
          testCases: tests.map((test) => ({
            ...testData(test),
            hidden: test.row.hidden,
            weight: test.row.weight,
          })),
        }
      : {}),
  };
}

/** What an upload added, for its author. */
export const presentAddedTests = (tests: LoadedTest[]) =>
  tests.map((test) => ({ ...testData(test), hidden: test.row.hidden, weight: test.row.weight }));
