import { describe, expect, it } from 'vitest';
import type { QuestionBody } from '../questions/questions.models.ts';
import { foldAnswer, matchesAccepted, scoreAnswer } from './attempts.scoring.ts';

const q = (body: QuestionBody, points = 1) => ({ body, points });
const single = q({
  type: 'single_choice',
  options: [
    { id: 'a', text: '4', correct: true },
    { id: 'b', text: '5' },
  ],
});
const multiple = q(
  {
    type: 'multiple_choice',
    options: [
      { id: 'a', text: '2', correct: true },
      { id: 'b', text: '3', correct: true },
      { id: 'c', text: '4' },
    ],
  },
  2,
);

describe('scoreAnswer', () => {
  it('scores single choice and true/false all or nothing', () => {
    expect(scoreAnswer(single, 'a')).toMatchObject({ earned: 1, correct: true });
    expect(scoreAnswer(single, 'b')).toMatchObject({ earned: 0, correct: false });
    expect(scoreAnswer(single, 'zzz')).toMatchObject({ earned: 0 });
    expect(scoreAnswer(q({ type: 'true_false', correct: false }), false)).toMatchObject({
      earned: 1,
    });
    expect(scoreAnswer(q({ type: 'true_false', correct: false }), 'false')).toMatchObject({
      earned: 0,
    });
  });

  it('gives multiple choice partial credit: right picks minus wrong picks, floored at 0', () => {
    expect(scoreAnswer(multiple, ['a', 'b'])).toMatchObject({
      earned: 2,
      fraction: 1,
      correct: true,
    });
    expect(scoreAnswer(multiple, ['a'])).toMatchObject({
      earned: 1,
      fraction: 0.5,
      correct: false,
    });
    expect(scoreAnswer(multiple, ['a', 'c'])).toMatchObject({ earned: 0, fraction: 0 });
    expect(scoreAnswer(multiple, ['c'])).toMatchObject({ earned: 0, fraction: 0 });
    expect(scoreAnswer(multiple, ['a', 'a'])).toMatchObject({ fraction: 0.5 });
    expect(scoreAnswer(multiple, ['a', 'b', 'c'])).toMatchObject({ fraction: 0.5 });
  });

  it('uses option weights when given, clamped to [0, 1]', () => {
    const weighted = q({
      type: 'multiple_choice',
      options: [
        { id: 'a', text: 'x', weight: 0.5 },
        { id: 'b', text: 'y', weight: 0.5 },
        { id: 'c', text: 'z', weight: -1 },
      ],
    });
    expect(scoreAnswer(weighted, ['a', 'b'])).toMatchObject({ fraction: 1 });
    expect(scoreAnswer(weighted, ['a', 'c'])).toMatchObject({ fraction: 0 });
  });

  it('applies negative marking only to wrong, non-blank answers', () => {
    expect(scoreAnswer(single, 'b', { negativeMarking: 0.25 })).toMatchObject({ earned: -0.25 });
    expect(scoreAnswer(single, undefined, { negativeMarking: 0.25 })).toMatchObject({ earned: 0 });
    expect(scoreAnswer(multiple, ['c'], { negativeMarking: 0.5 })).toMatchObject({
      fraction: -0.5,
      earned: -1,
    });
  });

  it('matches short answers with folding, alternatives, weights and wildcards', () => {
    const capital = q({
      type: 'short_answer',
      accepted: [
        { text: 'Paris' },
        { text: 'paris, france', weight: 0.5 },
        { text: 'par*s', weight: 0.25 },
      ],
      caseSensitive: false,
    });
    expect(scoreAnswer(capital, '  PARIS ')).toMatchObject({ fraction: 1 });
    expect(scoreAnswer(capital, 'Paris,   France')).toMatchObject({ fraction: 0.5 });
    expect(scoreAnswer(capital, 'parriiis')).toMatchObject({ fraction: 0.25 });
    expect(scoreAnswer(capital, 'London')).toMatchObject({ fraction: 0 });
    const exact = q({ type: 'short_answer', accepted: [{ text: 'NaCl' }], caseSensitive: true });
    expect(scoreAnswer(exact, 'nacl')).toMatchObject({ fraction: 0 });
    expect(scoreAnswer(exact, 'NaCl')).toMatchObject({ fraction: 1 });
    // Regex characters in accepted answers are literal.
    expect(
      scoreAnswer(
        q({ type: 'short_answer', accepted: [{ text: 'a.b' }], caseSensitive: false }),
        'axb',
      ),
    ).toMatchObject({ fraction: 0 });
  });

  it('accepts numbers within the tolerance, with float slack', () => {
    const pi = q({ type: 'numeric', correct: 3.14, tolerance: 0.01 });
    expect(scoreAnswer(pi, 3.15)).toMatchObject({ fraction: 1 });
    expect(scoreAnswer(pi, 3.1512)).toMatchObject({ fraction: 0 });
    expect(
      scoreAnswer(q({ type: 'numeric', correct: 0.3, tolerance: 0 }), 0.1 + 0.2),
    ).toMatchObject({ fraction: 1 });
    expect(scoreAnswer(pi, Number.NaN)).toMatchObject({ fraction: 0 });
  });

  it('leaves code answers pending for the judge', () => {
    expect(
      scoreAnswer(q({ type: 'code', challengeId: 'c1' }, 5), {
        language: 'python',
        source: 'print(1)',
      }),
    ).toEqual({
      status: 'pending',
      earned: 0,
      max: 5,
    });
    // No program, or an empty one, is a blank answer: nothing to judge, no points.
    const code = q({ type: 'code', challengeId: 'c1' }, 5);
    expect(scoreAnswer(code, null)).toMatchObject({ status: 'scored', earned: 0 });
    expect(scoreAnswer(code, { language: 'python', source: '  \n' })).toMatchObject({
      status: 'scored',
      earned: 0,
    });
  });
});

describe('foldAnswer', () => {
  it('folds case and whitespace unless told to keep case', () => {
    expect(foldAnswer('  Hello\t  World ', false)).toBe('hello world');
    expect(foldAnswer('  Hello  World ', true)).toBe('Hello World');
  });
});

describe('matchesAccepted', () => {
  it('treats * as any run of characters and everything else literally', () => {
    expect(matchesAccepted('photosynthesis', 'photo*')).toBe(true);
    expect(matchesAccepted('photo', 'photo*')).toBe(true);
    expect(matchesAccepted('a.b', 'a*b')).toBe(true);
    expect(matchesAccepted('axb', 'a.b')).toBe(false);
    expect(matchesAccepted('the cat sat', '*cat*')).toBe(true);
    expect(matchesAccepted('abcabd', 'a*b*d')).toBe(true);
    expect(matchesAccepted('ab', 'a*b*b')).toBe(false);
    expect(matchesAccepted('aXbYc', 'a*b*c')).toBe(true);
    expect(matchesAccepted('abc', 'a**c')).toBe(true);
    expect(matchesAccepted('aba', 'ab*ba')).toBe(false);
  });

  it('stays linear on answers built to make a backtracking matcher explode', () => {
    // A regular expression took minutes on this (far past the test timeout); this returns at once.
    expect(matchesAccepted('a'.repeat(1_000), '*a*a*a*a*z')).toBe(false);
    expect(matchesAccepted(`${'a'.repeat(999)}z`, '*a*a*a*a*z')).toBe(true);
  });
});
