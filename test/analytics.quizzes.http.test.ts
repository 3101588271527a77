import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './support/app.ts';
import { bearer, signedIn, type Tokens } from './support/auth.ts';
import { databaseKinds } from './support/databases.ts';
import { expectInvalidAt } from './support/problems.ts';
import {
  createQuestion,
  createQuiz,
  saveAnswer,
  startAttempt,
  submitAttempt,
} from './support/quizzes.ts';

/**
 * A small quiz taken through the API, and its report checked against values computed with
 * numpy/scipy from the same marks (listed below), for every `attempts=` mode.
 *
 *            single(1) multi(2) truth(1) short(1) unanswered(1)   total /6
 *   s1 #1       1        2        1        1         0              5
 *   s2 #1       1        1        0        1         0              3   (#2 left open)
 *   s3 #1       0        0        1        0         0              1
 *   s3 #2       1        2        1        1         0              5
 *   s4 #1       1        2        1        –         0              4   (short left blank)
 *   s5 #1       0        1        0        1         0              2
 *   s5 #2       0        –        –        –         0              0
 */
const EXPECTED = {
  first: {
    counted: 5,
    score: { mean: 50, median: 50, sd: 26.352313834736496, skewness: 0, kurtosis: -1.2 },
    questions: [
      { facility: 60, sd: 54.77225575051662, di: 72.05766921228921, de: 100 },
      { facility: 60, sd: 41.83300132670378, di: 78.57142857142858, de: 100 },
      { facility: 60, sd: 54.77225575051662, di: -6.019292654288459, de: -7.142857142857141 },
      { facility: 60, sd: 54.77225575051662, di: -6.019292654288458, de: -7.142857142857141 },
      { facility: 0, sd: 0, di: null, de: null },
    ],
  },
  last: {
    counted: 5,
    score: {
      mean: 56.666666666666664,
      median: 66.66666666666667,
      sd: 34.56073558887953,
      skewness: -1.4467284665112363,
      kurtosis: 1.930773391022175,
    },
    questions: [
      { facility: 80, sd: 44.721359549995796, di: 86.85990362153792, de: 100 },
      { facility: 70, sd: 44.721359549995796, di: 91.2870929175277, de: 100 },
      { facility: 60, sd: 54.77225575051662, di: 72.22222222222221, de: 100 },
      { facility: 60, sd: 54.77225575051662, di: 40.824829046386306, de: 44.44444444444445 },
      { facility: 0, sd: 0, di: null, de: null },
    ],
  },
  best: {
    counted: 5,
    score: {
      mean: 63.33333333333333,
      median: 66.66666666666667,
      sd: 21.730674684008825,
      skewness: -0.5413870509510843,
      kurtosis: -1.4878892733564002,
    },
    questions: [
      { facility: 80, sd: 44.721359549995796, di: 55.90169943749474, de: 100 },
      { facility: 80, sd: 27.386127875258303, di: 76.37626158259732, de: 100 },
      { facility: 60, sd: 54.77225575051662, di: 76.37626158259732, de: 100 },
      { facility: 80, sd: 44.721359549995796, di: -39.52847075210474, de: -50 },
      { facility: 0, sd: 0, di: null, de: null },
    ],
  },
  all: {
    counted: 7,
    score: {
      mean: 47.61904761904761,
      median: 50,
      sd: 32.53000243161777,
      skewness: -0.2881954902926133,
      kurtosis: -1.4463749999999997,
    },
    questions: [
      { facility: 57.14285714285714, sd: 53.45224838248488, di: 80.39133011368082, de: 100 },
      { facility: 57.14285714285714, sd: 44.98677054212186, di: 87.9955264185814, de: 100 },
      {
        facility: 57.14285714285714,
        sd: 53.45224838248488,
        di: 33.97604427680559,
        de: 38.235294117647065,
      },
      {
        facility: 57.14285714285714,
        sd: 53.45224838248488,
        di: 33.97604427680559,
        de: 38.235294117647065,
      },
      { facility: 0, sd: 0, di: null, de: null },
    ],
  },
} as const;

type Report = {
  attemptsCounted: string;
  participants: number;
  attempts: Record<string, number>;
  completionRate: number | null;
  averageSeconds: number | null;
  score: Record<string, number | null>;
  histogram: Array<{ from: number; to: number; count: number }>;
  questions: Array<{
    questionId: string;
    position: number | null;
    type: string | null;
    attempts: number;
    answered: number;
    maxMark: number | null;
    facilityIndex: number | null;
    sd: number | null;
    discriminationIndex: number | null;
    discriminativeEfficiency: number | null;
    options: Array<{
      id: string;
      text: string;
      correct: boolean;
      picks: number;
      rate: number | null;
    }> | null;
  }>;
};

const closeOrNull = (actual: number | null, expected: number | null, what: string) => {
  if (expected === null) expect(actual, what).toBeNull();
  else expect(actual, what).toBeCloseTo(expected, 8);
};

/** A tiny RFC 4180 reader for the test: quoted fields, doubled quotes, CRLF lines. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  return rows;
}

describe.each(databaseKinds())('quiz analytics on %s', (kind) => {
  let t: TestApp;
  let author: Tokens;
  let otherInstructor: Tokens;
  let admin: Tokens;
  let students: Tokens[];
  let quizId: string;
  let ids: string[];
  let options: { single: Record<string, string>; multi: Record<string, string> };

  const report = (who: Tokens, query = '') =>
    t.app.inject({
      method: 'GET',
      url: `/api/v1/analytics/quizzes/${quizId}${query}`,
      headers: bearer(who),
    });

  /** One attempt: answers by question index (undefined = left blank), a minute per attempt. */
  const take = async (who: Tokens, answers: unknown[], options_: { submit?: boolean } = {}) => {
    const started = await startAttempt(t, who, quizId);
    expect(started.statusCode).toBe(201);
    const attemptId = started.json().id as string;
    for (const [index, answer] of answers.entries()) {
      if (answer === undefined) continue;
      const saved = await saveAnswer(t, who, attemptId, ids[index] as string, answer);
      expect(saved.statusCode, saved.body).toBe(200);
    }
    t.clock.advance(60_000);
    if (options_.submit !== false)
      expect((await submitAttempt(t, who, attemptId)).statusCode).toBe(200);
  };

  beforeAll(async () => {
    t = await createTestApp({ database: kind });
    author = await signedIn(t, 'instructor');
    otherInstructor = await signedIn(t, 'instructor');
    admin = await signedIn(t, 'admin');
    students = [];
    for (let i = 0; i < 5; i++) students.push(await signedIn(t, 'student'));
    const single = await createQuestion(t, author, {
      type: 'single_choice',
      name: 'Capital',
      prompt: '=HYPERLINK("http://evil.example") Capital of France, "really"?',
      tags: ['geography'],
      options: [{ text: 'Paris', correct: true }, { text: 'Lyon' }, { text: 'Nice, France' }],
    });
    const multi = await createQuestion(t, author, {
      type: 'multiple_choice',
      prompt: 'Even numbers?',
      points: 2,
      options: [{ text: '2', correct: true }, { text: '4', correct: true }, { text: '5' }],
    });
    const truth = await createQuestion(t, author, {
      type: 'true_false',
      prompt: 'The sky is blue.',
      correct: true,
    });
    const short = await createQuestion(t, author, {
      type: 'short_answer',
      prompt: 'Capital of France?\nOne word.',
      accepted: ['Paris'],
    });
    const unanswered = await createQuestion(t, author, {
      type: 'short_answer',
      prompt: 'Nobody answers this',
      accepted: ['x'],
    });
    ids = [single.id, multi.id, truth.id, short.id, unanswered.id];
    const byText = (question: typeof single) =>
      Object.fromEntries((question.options ?? []).map((option) => [option.text, option.id]));
    options = { single: byText(single), multi: byText(multi) };
    quizId = (
      await createQuiz(t, author, {
        title: 'Item analysis, "quoted"',
        maxAttempts: 2,
        questions: ids.map((questionId) => ({ questionId })),
      })
    ).id;
    const [s1, s2, s3, s4, s5] = students as [Tokens, Tokens, Tokens, Tokens, Tokens];
    const { single: a, multi: m } = options;
    await take(s1, [a.Paris, [m['2'], m['4']], true, 'Paris']);
    await take(s2, [a.Paris, [m['2']], false, 'paris']);
    await take(s3, [a.Lyon, [m['2'], m['5']], true, 'Lyon']);
    await take(s4, [a.Paris, [m['4'], m['2']], true]);
    await take(s5, [a['Nice, France'], [m['4']], false, 'Paris']);
    await take(s3, [a.Paris, [m['2'], m['4']], true, 'Paris']);
    await take(s5, [a.Lyon]);
    // Still open: started, not counted.
    await take(s2, [a.Lyon], { submit: false });
  });
  afterAll(async () => {
    await t.close();
  });

  it('is for staff who manage the quiz: students 403, other instructors 404, admins 200', async () => {
    expect((await report(students[0] as Tokens)).statusCode).toBe(403);
    const other = await report(otherInstructor);
    expect(other.statusCode).toBe(404);
    expect(other.json().code).toBe('QUIZ_NOT_FOUND');
    expect((await report(author)).statusCode).toBe(200);
    expect((await report(admin)).statusCode).toBe(200);
    const missing = await t.app.inject({
      method: 'GET',
      url: '/api/v1/analytics/quizzes/no-such-quiz',
      headers: bearer(admin),
    });
    expect(missing.statusCode).toBe(404);
  });

  it('counts participants, attempts by state and the completion rate', async () => {
    const body = (await report(author)).json() as Report;
    expect(body.attemptsCounted).toBe('first');
    expect(body.participants).toBe(5);
    expect(body.attempts).toEqual({
      started: 8,
      inProgress: 1,
      grading: 0,
      finished: 7,
      submittedByStudent: 7,
      closedByTimer: 0,
      closedByFocusLimit: 0,
      counted: 5,
    });
    expect(body.completionRate).toBeCloseTo(7 / 8, 10);
    // Every attempt was submitted a minute after it started.
    expect(body.averageSeconds).toBeCloseTo(60, 6);
  });

  it.each(['first', 'last', 'best', 'all'] as const)(
    'gives Moodle’s statistics, as numpy computes them, for %s attempts',
    async (mode) => {
      const response = await report(author, `?attempts=${mode}`);
      expect(response.statusCode).toBe(200);
      const body = response.json() as Report;
      const expected = EXPECTED[mode];
      expect(body.attemptsCounted).toBe(mode);
      expect(body.attempts.counted).toBe(expected.counted);
      for (const key of ['mean', 'median', 'sd', 'skewness', 'kurtosis'] as const)
        closeOrNull(body.score[key] ?? null, expected.score[key], `${mode} ${key}`);
      expect(body.questions.map((q) => q.questionId)).toEqual(ids);
      expect(body.questions.map((q) => q.position)).toEqual([1, 2, 3, 4, 5]);
      for (const [index, question] of body.questions.entries()) {
        const want = expected.questions[index] as (typeof expected.questions)[number];
        expect(question.attempts).toBe(expected.counted);
        closeOrNull(question.facilityIndex, want.facility, `${mode} q${index + 1} facility`);
        closeOrNull(question.sd, want.sd, `${mode} q${index + 1} sd`);
        closeOrNull(question.discriminationIndex, want.di, `${mode} q${index + 1} DI`);
        closeOrNull(question.discriminativeEfficiency, want.de, `${mode} q${index + 1} DE`);
      }
      expect(body.histogram).toHaveLength(10);
      expect(body.histogram.reduce((sum, bin) => sum + bin.count, 0)).toBe(expected.counted);
    },
  );

  it('puts every score in its 10-point bin, full marks in the last', async () => {
    const body = (await report(author, '?attempts=all')).json() as Report;
    // 83.3, 50, 16.7, 66.7, 33.3, 83.3, 0
    const counts = body.histogram.map((bin) => bin.count);
    expect(counts).toEqual([1, 1, 0, 1, 0, 1, 1, 0, 2, 0]);
  });

  it('gives pick rates with option texts and keys, and who answered what', async () => {
    const body = (await report(author)).json() as Report;
    const [single, multi, truth, short, unanswered] = body.questions;
    expect(single?.options).toEqual([
      { id: options.single.Paris, text: 'Paris', correct: true, picks: 3, rate: 0.6 },
      { id: options.single.Lyon, text: 'Lyon', correct: false, picks: 1, rate: 0.2 },
      {
        id: options.single['Nice, France'],
        text: 'Nice, France',
        correct: false,
        picks: 1,
        rate: 0.2,
      },
    ]);
    expect(multi?.options?.map((o) => [o.text, o.picks])).toEqual([
      ['2', 4],
      ['4', 3],
      ['5', 1],
    ]);
    expect(multi?.maxMark).toBe(2);
    expect(truth?.options).toEqual([
      { id: 'true', text: 'True', correct: true, picks: 3, rate: 0.6 },
      { id: 'false', text: 'False', correct: false, picks: 2, rate: 0.4 },
    ]);
    expect(short?.options).toBeNull();
    expect(body.questions.map((q) => q.answered)).toEqual([5, 5, 5, 4, 0]);
    // Nobody answered it: it still has its attempts and a facility of 0, but cannot discriminate.
    expect(unanswered).toMatchObject({
      attempts: 5,
      answered: 0,
      facilityIndex: 0,
      sd: 0,
      discriminationIndex: null,
      discriminativeEfficiency: null,
    });
  });

  it('refuses an unknown attempts mode or format', async () => {
    expectInvalidAt(
      await report(author, '?attempts=worst'),
      'querystring.attempts',
      'attempts=worst',
    );
    expectInvalidAt(await report(author, '?format=xlsx'), 'querystring.format', 'format=xlsx');
  });

  it('exports the report as CSV a spreadsheet reads back, quotes and formulas defused', async () => {
    const response = await report(author, '?format=csv&attempts=last');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.headers['content-disposition']).toMatch(
      /^attachment; filename="quiz-.+-report\.csv"$/,
    );
    expect(response.body.endsWith('\r\n')).toBe(true);
    const rows = parseCsv(response.body);
    const value = (label: string) => rows.find((row) => row[0] === label)?.[1];
    expect(value('Quiz')).toBe('Item analysis, "quoted"');
    expect(value('Attempts counted')).toBe('last');
    expect(Number(value('Mean (%)'))).toBeCloseTo(EXPECTED.last.score.mean, 3);
    expect(Number(value('Kurtosis'))).toBeCloseTo(EXPECTED.last.score.kurtosis, 3);
    const header = rows.findIndex((row) => row[0] === 'Position');
    expect(rows[header]).toContain('Discrimination index (%)');
    const questions = rows.slice(header + 1, header + 6);
    expect(questions.map((row) => row[1])).toEqual(ids);
    const di = rows[header]?.indexOf('Discrimination index (%)') as number;
    expect(Number(questions[1]?.[di])).toBeCloseTo(EXPECTED.last.questions[1].di, 3);
    expect(questions[4]?.[di]).toBe('');
    // A prompt that starts like a formula is text, and its quotes and line breaks survive.
    const prompt = rows[header]?.indexOf('Prompt') as number;
    expect(questions[0]?.[prompt]).toBe(
      `'=HYPERLINK("http://evil.example") Capital of France, "really"?`,
    );
    expect(questions[3]?.[prompt]).toBe('Capital of France?\nOne word.');
    const optionHeader = rows.findIndex(
      (row) => row[0] === 'Question id' && row[1] === 'Option id',
    );
    expect(rows.slice(optionHeader + 1).find((row) => row[2] === 'Nice, France')).toEqual([
      ids[0],
      options.single['Nice, France'],
      'Nice, France',
      'no',
      '0',
      '0',
    ]);
    const histogramHeader = rows.findIndex((row) => row[0] === 'Score from (%)');
    expect(rows.slice(histogramHeader + 1)).toHaveLength(10);
  });

  it('keeps quiz statistics out of reach for students even as CSV', async () => {
    const response = await report(students[0] as Tokens, '?format=csv');
    expect(response.statusCode).toBe(403);
  });
});
