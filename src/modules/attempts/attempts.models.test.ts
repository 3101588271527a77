import { describe, expect, it } from 'vitest';
import {
  answerProblem,
  answerRecord,
  correctAnswerOf,
  expiryOf,
  isOverdue,
  layOut,
  remainingSeconds,
  reviewAllowed,
  secureShuffle,
  totalsOf,
} from './attempts.models.ts';

const at = (iso: string) => new Date(iso);

describe('expiryOf', () => {
  it('is the earlier of start + duration and the closing time', () => {
    const start = at('2026-01-01T10:00:00Z');
    expect(expiryOf(start, 30, null)?.toISOString()).toBe('2026-01-01T10:30:00.000Z');
    expect(expiryOf(start, 30, at('2026-01-01T10:10:00Z'))?.toISOString()).toBe(
      '2026-01-01T10:10:00.000Z',
    );
    expect(expiryOf(start, null, at('2026-01-01T12:00:00Z'))?.toISOString()).toBe(
      '2026-01-01T12:00:00.000Z',
    );
    expect(expiryOf(start, null, null)).toBeNull();
  });

  it('takes fractions of minutes', () => {
    const start = at('2026-01-01T10:00:00Z');
    expect(expiryOf(start, 0.25, null)?.toISOString()).toBe('2026-01-01T10:00:15.000Z');
  });
});

describe('the clock of an attempt', () => {
  const end = at('2026-01-01T10:00:00Z');
  it('is overdue only after the grace', () => {
    expect(isOverdue(end, at('2026-01-01T10:00:05Z'), 5_000)).toBe(false);
    expect(isOverdue(end, at('2026-01-01T10:00:05.001Z'), 5_000)).toBe(true);
    expect(isOverdue(null, at('2099-01-01T00:00:00Z'), 0)).toBe(false);
  });
  it('counts remaining seconds up, never below 0', () => {
    expect(remainingSeconds(end, at('2026-01-01T09:59:58.500Z'))).toBe(2);
    expect(remainingSeconds(end, at('2026-01-01T10:01:00Z'))).toBe(0);
    expect(remainingSeconds(null, end)).toBeNull();
  });
});

describe('layOut', () => {
  const questions = Array.from({ length: 10 }, (_, index) => ({
    id: `q${index}`,
    points: index + 1,
    body: {
      type: 'single_choice' as const,
      options: ['a', 'b', 'c', 'd'].map((id) => ({ id: `${index}${id}`, text: id })),
    },
  }));

  it('keeps the author’s order unless told to shuffle', () => {
    const slots = layOut({ questions, shuffleQuestions: false, shuffleOptions: false });
    expect(slots.map((slot) => slot.questionId)).toEqual(questions.map((question) => question.id));
    expect(slots[0]?.optionIds).toEqual(['0a', '0b', '0c', '0d']);
    expect(slots[3]?.points).toBe(4);
  });

  it('shuffles questions and options as permutations of the same items', () => {
    const slots = layOut({ questions, shuffleQuestions: true, shuffleOptions: true });
    expect(slots.map((slot) => slot.questionId).sort()).toEqual(questions.map((q) => q.id).sort());
    for (const slot of slots) expect([...(slot.optionIds ?? [])].sort()).toHaveLength(4);
  });

  it('draws a pool’s count without repeats', () => {
    const slots = layOut({ questions, draw: 4, shuffleQuestions: false, shuffleOptions: false });
    expect(new Set(slots.map((slot) => slot.questionId)).size).toBe(4);
  });

  it('puts every item in every position about equally often', () => {
    const counts = Array.from({ length: 4 }, () => [0, 0, 0, 0]);
    for (let round = 0; round < 4_000; round++)
      secureShuffle([0, 1, 2, 3]).forEach((item, position) => {
        counts[item]![position]!++;
      });
    // 1,000 expected per cell; ±15% is far outside chance for a fair shuffle.
    for (const row of counts) for (const cell of row) expect(cell).toBeGreaterThan(850);
  });
});

describe('answerProblem', () => {
  const single = {
    type: 'single_choice' as const,
    options: [
      { id: 'a', text: 'A', correct: true },
      { id: 'b', text: 'B' },
    ],
  };
  it('accepts answers of the question’s shape and null', () => {
    expect(answerProblem(single, 'a')).toBeNull();
    expect(answerProblem({ ...single, type: 'multiple_choice' }, ['a', 'b'])).toBeNull();
    expect(answerProblem({ type: 'true_false', correct: true }, false)).toBeNull();
    expect(answerProblem({ type: 'numeric', correct: 1, tolerance: 0 }, 2.5)).toBeNull();
    expect(
      answerProblem({ type: 'code', challengeId: 'c' }, { language: 'python', source: 'x' }),
    ).toBeNull();
    expect(answerProblem(single, null)).toBeNull();
  });
  it('names what is wrong', () => {
    expect(answerProblem(single, 'z')).toMatch(/option/);
    expect(answerProblem({ ...single, type: 'multiple_choice' }, ['a', 'a'])).toMatch(/twice/);
    expect(answerProblem({ type: 'true_false', correct: true }, 'true')).toMatch(/true or false/);
    expect(answerProblem({ type: 'numeric', correct: 1, tolerance: 0 }, '1')).toMatch(/number/);
    expect(
      answerProblem(
        { type: 'code', challengeId: 'c' },
        { language: 'c', source: 'x'.repeat(65_537) },
      ),
    ).toMatch(/64 KiB/);
  });
});

describe('reviewAllowed', () => {
  const now = at('2026-01-01T10:00:00Z');
  const open = { closesAt: at('2026-01-01T11:00:00Z'), status: 'published' as const };
  it('follows the policy', () => {
    expect(reviewAllowed('after_submit', open, now)).toBe(true);
    expect(reviewAllowed('never', open, now)).toBe(false);
    expect(reviewAllowed('after_close', open, now)).toBe(false);
    expect(reviewAllowed('after_close', open, at('2026-01-01T11:00:00Z'))).toBe(true);
    expect(reviewAllowed('after_close', { closesAt: null, status: 'published' }, now)).toBe(false);
    expect(reviewAllowed('after_close', { closesAt: null, status: 'archived' }, now)).toBe(true);
  });
});

describe('correctAnswerOf', () => {
  it('gives the key in the shape of an answer', () => {
    expect(
      correctAnswerOf({
        type: 'multiple_choice',
        options: [
          { id: 'a', text: 'A', weight: 0.5 },
          { id: 'b', text: 'B', weight: 0.5 },
          { id: 'c', text: 'C', weight: -1 },
        ],
      }),
    ).toEqual(['a', 'b']);
    expect(
      correctAnswerOf({
        type: 'short_answer',
        accepted: [{ text: 'half', weight: 0.5 }, { text: 'Paris' }],
        caseSensitive: false,
      }),
    ).toBe('Paris');
  });
});

describe('totalsOf', () => {
  it('adds up, floors the total at 0 and applies the pass mark', () => {
    const outcomes = [
      { questionId: 'a', status: 'scored' as const, earned: 1, max: 1, correct: true },
      { questionId: 'b', status: 'scored' as const, earned: -0.5, max: 2, correct: false },
    ];
    expect(totalsOf(outcomes, 10)).toEqual({
      score: 0.5,
      maxScore: 3,
      percentage: 16.67,
      pending: false,
      passed: true,
    });
    expect(totalsOf([{ ...outcomes[1]! }], null)).toMatchObject({ score: 0, passed: null });
  });
  it('does not decide pass or fail while an answer is being judged', () => {
    expect(totalsOf([{ questionId: 'c', status: 'pending', earned: 0, max: 5 }], 50)).toMatchObject(
      { pending: true, passed: null },
    );
  });
  it('has no division by zero', () => {
    expect(totalsOf([], 50)).toMatchObject({ percentage: 0, passed: false });
  });
});

describe('answerRecord', () => {
  it('keeps the distinct picks of choice answers, as text', () => {
    expect(answerRecord('multiple_choice', ['b', 'a', 'b'])).toEqual({
      answered: true,
      picked: ['b', 'a'],
    });
    expect(answerRecord('single_choice', 'a')).toEqual({ answered: true, picked: ['a'] });
    expect(answerRecord('true_false', false)).toEqual({ answered: true, picked: ['false'] });
  });
  it('counts other answers as answered without picks', () => {
    expect(answerRecord('short_answer', 'Paris')).toEqual({ answered: true });
    expect(answerRecord('numeric', 0)).toEqual({ answered: true });
    expect(answerRecord('code', { language: 'python', source: ' x ' })).toEqual({ answered: true });
  });
  it('treats what the report treats as blank as unanswered', () => {
    for (const blank of [undefined, null, '', []])
      expect(answerRecord('multiple_choice', blank)).toEqual({ answered: false });
    expect(answerRecord('code', { language: 'python', source: '   ' })).toEqual({
      answered: false,
    });
  });
});
