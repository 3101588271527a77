import { describe, expect, it } from 'vitest';
import { judgeTest, overallVerdict, scoreOf, type TestOutcome } from './submissions.models.ts';
import { runResult } from './submissions.test-utils.ts';

const judge = (overrides: Partial<Parameters<typeof judgeTest>[0]> = {}) =>
  judgeTest({
    index: 0,
    hidden: false,
    weight: 1,
    run: runResult(),
    expected: Buffer.from('42\n'),
    checker: 'trim',
    floatTolerance: null,
    ...overrides,
  });

const outcome = (verdict: TestOutcome['verdict'], weight = 1): TestOutcome => ({
  index: 0,
  hidden: false,
  weight,
  verdict,
  timeMs: 1,
  memoryKb: 1,
});

describe('judging one test', () => {
  it('accepts output the checker accepts, and names the first difference otherwise', () => {
    expect(judge()).toMatchObject({
      verdict: 'accepted',
      timeMs: 12,
      memoryKb: 2048,
      stdout: '42\n',
    });
    expect(judge({ run: runResult({ stdout: Buffer.from('41\n') }) })).toMatchObject({
      verdict: 'wrong_answer',
      difference: { line: 1, expected: '42', actual: '41' },
    });
  });

  it('keeps the run’s own verdict when the program failed', () => {
    expect(
      judge({ run: runResult({ verdict: 'time_limit_exceeded', limitExceeded: 'cpu' }) }),
    ).toMatchObject({
      verdict: 'time_limit_exceeded',
      limitExceeded: 'cpu',
    });
    expect(judge({ run: runResult({ verdict: 'runtime_error', exitCode: 1 }) }).verdict).toBe(
      'runtime_error',
    );
    expect(judge({ run: runResult({ verdict: 'memory_limit_exceeded' }) }).verdict).toBe(
      'memory_limit_exceeded',
    );
  });

  it('keeps nothing of a hidden test but its verdict and measures', () => {
    const hidden = judge({
      hidden: true,
      run: runResult({ stdout: Buffer.from('SECRET-OUT\n'), stderr: Buffer.from('SECRET-ERR') }),
      expected: Buffer.from('SECRET-EXPECTED\n'),
    });
    expect(Object.keys(hidden).sort()).toEqual([
      'hidden',
      'index',
      'memoryKb',
      'timeMs',
      'verdict',
      'weight',
    ]);
    expect(JSON.stringify(hidden)).not.toMatch(/SECRET/);
  });
});

describe('a submission’s verdict and score', () => {
  it('takes the first failing test’s verdict, in order', () => {
    expect(
      overallVerdict([
        outcome('accepted'),
        outcome('wrong_answer'),
        outcome('time_limit_exceeded'),
      ]),
    ).toBe('wrong_answer');
    expect(overallVerdict([outcome('accepted'), outcome('accepted')])).toBe('accepted');
    expect(overallVerdict([])).toBe('accepted');
  });

  it('scores the weighted share of passed tests', () => {
    expect(scoreOf([outcome('accepted', 1), outcome('wrong_answer', 3)], 100)).toBe(25);
    expect(
      scoreOf([outcome('accepted', 1), outcome('accepted', 2), outcome('runtime_error', 0)], 10),
    ).toBe(10);
    expect(scoreOf([outcome('accepted'), outcome('accepted'), outcome('wrong_answer')], 1)).toBe(
      0.67,
    );
    expect(scoreOf([], 10)).toBe(0);
  });

  it('gives the points to a submission passing tests that all weigh 0, and nothing otherwise', () => {
    expect(scoreOf([outcome('accepted', 0), outcome('accepted', 0)], 50)).toBe(50);
    expect(scoreOf([outcome('accepted', 0), outcome('wrong_answer', 0)], 50)).toBe(0);
  });
});
