import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './support/app.ts';
import { bearer, signedIn, type Tokens } from './support/auth.ts';
import { expectInvalidAt } from './support/problems.ts';
import { storedChallenge } from './support/quizzes.ts';

const KEY_FIELDS = ['correct', 'weight', 'accepted', 'tolerance', 'explanation', 'caseSensitive'];

describe('question bank', () => {
  let t: TestApp;
  let staff: Tokens;
  let student: Tokens;
  beforeAll(async () => {
    t = await createTestApp();
    staff = await signedIn(t, 'instructor');
    student = await signedIn(t, 'student');
    EXAMPLES.code!.challengeId = await storedChallenge(t, staff);
  });
  afterAll(async () => {
    await t.close();
  });

  const create = (payload: Record<string, unknown>, who: Tokens = staff) =>
    t.app.inject({ method: 'POST', url: '/api/v1/questions', headers: bearer(who), payload });

  const EXAMPLES: Record<string, Record<string, unknown>> = {
    single_choice: {
      type: 'single_choice',
      prompt: '2 + 2?',
      options: [{ text: '4', correct: true }, { text: '5' }],
      tags: ['Math'],
      level: 'beginner',
      explanation: 'Count.',
    },
    multiple_choice: {
      type: 'multiple_choice',
      prompt: 'Primes?',
      options: [{ text: '2', correct: true }, { text: '3', correct: true }, { text: '4' }],
      tags: ['math'],
    },
    true_false: {
      type: 'true_false',
      prompt: 'The sky is blue.',
      correct: true,
      tags: ['science'],
    },
    short_answer: {
      type: 'short_answer',
      prompt: 'Capital of France?',
      accepted: ['Paris', { text: 'paris, france', weight: 0.5 }],
      tags: ['geo'],
    },
    numeric: {
      type: 'numeric',
      prompt: 'Pi to two places?',
      correct: 3.14,
      tolerance: 0.01,
      points: 2,
      tags: ['math'],
    },
    code: {
      type: 'code',
      prompt: 'Sum two numbers.',
      challengeId: 'set in beforeAll',
      language: 'python',
      tags: ['code'],
    },
  };

  it('creates every type, giving options ids and keeping the keys for staff', async () => {
    for (const [type, payload] of Object.entries(EXAMPLES)) {
      const response = await create(payload);
      expect(response.statusCode, `${type}: ${response.body}`).toBe(201);
      const question = response.json();
      expect(question).toMatchObject({ type, prompt: payload.prompt });
      if (question.options)
        for (const option of question.options) expect(option.id).toEqual(expect.any(String));
    }
    const choice = (await create(EXAMPLES.single_choice!)).json();
    expect(choice.tags).toEqual(['math']);
    expect(choice.options[0]).toMatchObject({ text: '4', correct: true });
    expect(choice.points).toBe(1);
    const got = await t.app.inject({
      method: 'GET',
      url: `/api/v1/questions/${choice.id}`,
      headers: bearer(staff),
    });
    expect(got.json()).toEqual(choice);
  });

  it('answers text the database cannot store (a NUL character) with a 400, not a 500', async () => {
    const response = await create({ type: 'true_false', prompt: 'True\u0000?', correct: true });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(response.json().detail).toContain('NUL');
    expect(response.json().errors).toEqual([
      { path: 'body.prompt', message: 'must not contain a NUL character (\\u0000)' },
    ]);
  });

  it('answers half a surrogate pair anywhere in the body with a 400 naming the field, not a 500', async () => {
    // JSON can spell it ("\ud800"); PostgreSQL's jsonb refuses it, a text column mangles it.
    for (const [payload, path] of [
      [
        { ...EXAMPLES.single_choice, options: [{ text: '4', correct: true }, { text: '5\ud800' }] },
        'body.options[1].text',
      ],
      [{ ...EXAMPLES.single_choice, prompt: '2 + 2\udc00?' }, 'body.prompt'],
    ] as const) {
      const response = await create(payload);
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json()).toMatchObject({
        code: 'VALIDATION_FAILED',
        errors: [{ path, message: expect.stringContaining('lone surrogate') }],
      });
    }
    expect((await create({ ...EXAMPLES.single_choice, prompt: '2 + 2 😀?' })).statusCode).toBe(201);
  });

  it('refuses a code question whose challenge does not exist, on create and on replace', async () => {
    const missing = { ...EXAMPLES.code, challengeId: 'no-such-challenge' };
    expectInvalidAt(await create(missing), 'body.challengeId', 'create');
    const made = (await create(EXAMPLES.code!)).json();
    const replaced = await t.app.inject({
      method: 'PUT',
      url: `/api/v1/questions/${made.id}`,
      headers: bearer(staff),
      payload: missing,
    });
    expectInvalidAt(replaced, 'body.challengeId', 'replace');
  });

  it('validates each type: one correct single choice, a correct multiple choice, tolerance ≥ 0, and more', async () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      [
        'two correct single choice',
        {
          type: 'single_choice',
          prompt: 'x',
          options: [
            { text: 'a', correct: true },
            { text: 'b', correct: true },
          ],
        },
        'body.options',
      ],
      [
        'no correct single choice',
        { type: 'single_choice', prompt: 'x', options: [{ text: 'a' }, { text: 'b' }] },
        'body.options',
      ],
      [
        'one option',
        { type: 'single_choice', prompt: 'x', options: [{ text: 'a', correct: true }] },
        'body.options',
      ],
      [
        'repeated option',
        {
          type: 'multiple_choice',
          prompt: 'x',
          options: [{ text: 'a', correct: true }, { text: 'A' }],
        },
        'body.options[1].text',
      ],
      [
        'no correct multiple choice',
        { type: 'multiple_choice', prompt: 'x', options: [{ text: 'a' }, { text: 'b' }] },
        'body.options',
      ],
      [
        'negative tolerance',
        { type: 'numeric', prompt: 'x', correct: 1, tolerance: -0.1 },
        'body.tolerance',
      ],
      [
        'weight out of range',
        {
          type: 'multiple_choice',
          prompt: 'x',
          options: [{ text: 'a', weight: 2 }, { text: 'b' }],
        },
        'body.options[0].weight',
      ],
      [
        'no full-mark answer',
        { type: 'short_answer', prompt: 'x', accepted: [{ text: 'a', weight: 0.5 }] },
        'body.accepted',
      ],
      ['unknown type', { type: 'essay', prompt: 'x' }, 'body.type'],
      ['unknown field', { type: 'true_false', prompt: 'x', correct: true, secret: 1 }, 'body'],
      ['zero points', { type: 'true_false', prompt: 'x', correct: true, points: 0 }, 'body.points'],
      [
        'bad level',
        { type: 'true_false', prompt: 'x', correct: true, level: 'expert' },
        'body.level',
      ],
    ];
    for (const [what, payload, path] of cases) expectInvalidAt(await create(payload), path, what);
  });

  it('accepts weights instead of correct flags (GIFT %50, Moodle fraction)', async () => {
    const response = await create({
      type: 'multiple_choice',
      prompt: 'Pick the even ones',
      options: [
        { text: '2', weight: 0.5 },
        { text: '4', weight: 0.5 },
        { text: '5', weight: -1 },
      ],
    });
    expect(response.statusCode).toBe(201);
    expect(response.json().options.map((option: { weight: number }) => option.weight)).toEqual([
      0.5, 0.5, -1,
    ]);
  });

  it('lists with filters and pages, replaces keeping option ids, and soft-deletes', async () => {
    const listed = (
      await t.app.inject({
        method: 'GET',
        url: '/api/v1/questions?tags=math&type=single_choice&limit=1',
        headers: bearer(staff),
      })
    ).json();
    expect(listed.items).toHaveLength(1);
    expect(listed.items[0]).toMatchObject({ type: 'single_choice', tags: ['math'] });
    expect(listed.nextCursor).toEqual(expect.any(String));
    const search = (
      await t.app.inject({
        method: 'GET',
        url: '/api/v1/questions?q=capital',
        headers: bearer(staff),
      })
    ).json();
    expect(search.items.map((item: { type: string }) => item.type)).toEqual(['short_answer']);

    const original = (await create(EXAMPLES.single_choice!)).json();
    const replaced = await t.app.inject({
      method: 'PUT',
      url: `/api/v1/questions/${original.id}`,
      headers: bearer(staff),
      payload: {
        ...EXAMPLES.single_choice,
        prompt: '2 + 2 = ?',
        options: [{ text: '4', correct: true }, { text: '22' }],
      },
    });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json().prompt).toBe('2 + 2 = ?');
    expect(replaced.json().options[0].id).toBe(original.options[0].id);

    const removed = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/questions/${original.id}`,
      headers: bearer(staff),
    });
    expect(removed.statusCode).toBe(204);
    expect(
      (
        await t.app.inject({
          method: 'GET',
          url: `/api/v1/questions/${original.id}`,
          headers: bearer(staff),
        })
      ).statusCode,
    ).toBe(404);
    expect(
      (
        await t.app.inject({
          method: 'DELETE',
          url: `/api/v1/questions/${original.id}`,
          headers: bearer(staff),
        })
      ).statusCode,
    ).toBe(404);
    const audit = (await t.deps.audit.list({ action: 'questions.deleted', limit: 5 })).items;
    expect(audit[0]?.targetId).toBe(original.id);
  });

  it('draws random practice sets without repeats and without any answer key', async () => {
    for (let draw = 0; draw < 5; draw++) {
      const response = await t.app.inject({
        method: 'GET',
        url: '/api/v1/questions/random?count=50',
        headers: bearer(student),
      });
      expect(response.statusCode).toBe(200);
      const items = response.json().items as Array<Record<string, unknown>>;
      expect(items.length).toBeGreaterThan(5);
      expect(new Set(items.map((item) => item.id)).size).toBe(items.length);
      const text = response.body;
      for (const field of KEY_FIELDS) expect(text, field).not.toContain(`"${field}"`);
      expect(text).not.toContain('challengeId');
    }
    const math = (
      await t.app.inject({
        method: 'GET',
        url: '/api/v1/questions/random?tags=math&level=beginner',
        headers: bearer(student),
      })
    ).json();
    expect(math.items.length).toBeGreaterThan(0);
    for (const item of math.items) expect(item.level).toBe('beginner');
  });

  it('keeps the bank itself to staff', async () => {
    expect(
      (await t.app.inject({ method: 'GET', url: '/api/v1/questions', headers: bearer(student) }))
        .statusCode,
    ).toBe(403);
    expect((await create(EXAMPLES.true_false!, student)).statusCode).toBe(403);
  });
});
