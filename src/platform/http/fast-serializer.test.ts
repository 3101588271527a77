import { describe, expect, it } from 'vitest';
import { attemptSchema } from '../../modules/attempts/attempts.schemas.ts';
import { fastSerializerCompiler } from './fast-serializer.ts';

const serialize = (data: unknown) =>
  fastSerializerCompiler({ schema: attemptSchema, method: 'GET', url: '/x', httpStatus: '200' })(
    data,
  );

describe('fast response serializer', () => {
  it('writes only what the schema lists, however deep an extra field sits', () => {
    const attempt = {
      id: 'a1',
      quizId: 'q1',
      number: 1,
      status: 'active',
      startedAt: '2026-01-01T10:00:00.000Z',
      expiresAt: null,
      remainingSeconds: null,
      submittedAt: null,
      endedBy: null,
      questions: [
        {
          id: 'x1',
          type: 'single_choice',
          prompt: 'Two plus two?',
          points: 1,
          options: [{ id: 'o1', text: 'four', correct: true }],
          correctOptionId: 'o1',
          explanation: 'arithmetic',
        },
      ],
      answers: { x1: '42' },
      passwordHash: 'secret',
    };
    const written = JSON.parse(serialize(attempt));
    expect(written).toEqual({
      ...attempt,
      questions: [
        {
          id: 'x1',
          type: 'single_choice',
          prompt: 'Two plus two?',
          points: 1,
          options: [{ id: 'o1', text: 'four' }],
        },
      ],
      passwordHash: undefined,
    });
    expect(JSON.stringify(written)).not.toMatch(/correct|explanation|secret/);
    // Answers are the student's own, kept exactly (a string that looks like a number stays one).
    expect(written.answers).toEqual({ x1: '42' });
  });
});
