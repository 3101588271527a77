import { describe, expect, it } from 'vitest';
import { buildReport, type ComparedSubmission } from './plagiarism.report.ts';
import { C, C_COPY, PYTHON, PYTHON_COPY, PYTHON_OWN } from './plagiarism.test-programs.ts';

let second = 0;
/** Each a second after the one before. */
function submission(
  submissionId: string,
  userId: string,
  language: string,
  source: string,
): ComparedSubmission {
  second += 1;
  return {
    submissionId,
    userId,
    language,
    source,
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, second)),
  };
}

describe('the report over a challenge’s submissions', () => {
  it('pairs copies of different users in the same language, most similar first, the earlier one as `a`', async () => {
    const pairs = await buildReport({
      submissions: [
        submission('s-ben', 'ben', 'python', PYTHON_COPY),
        submission('s-ada', 'ada', 'python', PYTHON),
        submission('s-cy', 'cy', 'python', PYTHON_OWN),
        submission('s-dan', 'dan', 'c', C),
        submission('s-eve', 'eve', 'c', C_COPY.replace('sum', 'result')),
        // Same program in another language, and a user's own second language: never paired.
        submission('s-ada-c', 'ada', 'c', PYTHON),
      ],
    });
    expect(pairs.map((pair) => [pair.a, pair.b, pair.language])).toEqual([
      ['s-ben', 's-ada', 'python'],
      ['s-dan', 's-eve', 'c'],
    ]);
    expect(pairs[0]).toMatchObject({ aUserId: 'ben', bUserId: 'ada', similarity: 1 });
    expect(pairs[0]!.matches).toEqual([{ aLines: [1, 13], bLines: [2, 11] }]);
  });

  it('keeps nothing below the threshold, and at most maxPairs', async () => {
    const submissions = ['a', 'b', 'c'].map((user) =>
      submission(`s-${user}`, user, 'python', PYTHON),
    );
    expect(await buildReport({ submissions })).toHaveLength(3);
    expect(await buildReport({ submissions, maxPairs: 2 })).toHaveLength(2);
    expect(
      await buildReport({
        submissions: [
          submission('s-1', 'u1', 'python', PYTHON),
          submission('s-2', 'u2', 'python', PYTHON_OWN),
        ],
      }),
    ).toEqual([]);
    expect(await buildReport({ submissions: [] })).toEqual([]);
  });

  it('stops when told to (a lost lease), between comparisons', async () => {
    const many = Array.from({ length: 30 }, (_, index) =>
      submission(`s-${index}`, `u${index}`, 'python', `${PYTHON}\nprint(${index})\n`),
    );
    await expect(buildReport({ submissions: many, signal: AbortSignal.abort() })).rejects.toThrow();
  });
});
