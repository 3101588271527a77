import { describe, expect, it } from 'vitest';
import { answerKeyProblems } from './questions.models.ts';

describe('answerKeyProblems', () => {
  it('wants exactly one correct single-choice option, by flag or by weight 1', () => {
    expect(
      answerKeyProblems({
        type: 'single_choice',
        options: [{ text: 'a', correct: true }, { text: 'b' }],
      }),
    ).toEqual([]);
    expect(
      answerKeyProblems({
        type: 'single_choice',
        options: [
          { text: 'a', weight: 1 },
          { text: 'b', weight: 0.5 },
        ],
      }),
    ).toEqual([]);
    expect(
      answerKeyProblems({ type: 'single_choice', options: [{ text: 'a' }, { text: 'b' }] })[0]
        ?.path,
    ).toBe('options');
  });

  it('wants a multiple-choice option that earns something', () => {
    expect(
      answerKeyProblems({
        type: 'multiple_choice',
        options: [
          { text: 'a', weight: -1 },
          { text: 'b', weight: 0 },
        ],
      }),
    ).toHaveLength(1);
    expect(
      answerKeyProblems({
        type: 'multiple_choice',
        options: [{ text: 'a', weight: 0.5 }, { text: 'b' }],
      }),
    ).toEqual([]);
  });

  it('refuses options that repeat (ignoring case) and mixing correct with weight', () => {
    const problems = answerKeyProblems({
      type: 'multiple_choice',
      options: [
        { text: 'Yes', correct: true },
        { text: 'yes ' },
        { text: 'no', correct: false, weight: 0 },
      ],
    });
    expect(problems.map((problem) => problem.path)).toEqual(
      expect.arrayContaining(['options[1].text', 'options[2]']),
    );
  });

  it('wants one full-mark short answer', () => {
    expect(
      answerKeyProblems({
        type: 'short_answer',
        accepted: ['Paris', { text: 'paris', weight: 0.5 }],
      }),
    ).toEqual([]);
    expect(
      answerKeyProblems({ type: 'short_answer', accepted: [{ text: 'x', weight: 0.5 }] }),
    ).toHaveLength(1);
  });
});
