import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { QuestionInput } from '../questions.schemas.ts';
import { type ExportableQuestion, type ParsedBatch, toInput } from './formats.types.ts';
import { formatGift, parseGift } from './gift.ts';

const fixture = (name: string) =>
  readFileSync(new URL(`../../../../test/fixtures/questions/${name}`, import.meta.url), 'utf8');
const roundTripSet = JSON.parse(fixture('roundtrip.staff.json')) as ExportableQuestion[];

function byName(batch: ParsedBatch) {
  return new Map(batch.questions.map((entry) => [entry.name ?? entry.question.prompt, entry]));
}

describe('parseGift on a Moodle-style file', () => {
  const batch = parseGift(fixture('corners.gift'));
  const found = byName(batch);

  it('reads a titled html question with per-answer and general feedback', () => {
    expect(found.get('Capital of France')).toEqual({
      line: 9,
      name: 'Capital of France',
      question: {
        type: 'single_choice',
        name: 'Capital of France',
        prompt: '<p>Which city is the capital of France?</p>',
        explanation: '<p>Paris is also the largest city in France.</p>',
        points: 1,
        tags: [],
        options: [{ text: 'Paris', correct: true }, { text: 'Lyon' }, { text: 'Marseille' }],
      },
    });
  });

  it('reads {F} and {TRUE#…#…} as true/false, dropping the feedback', () => {
    expect(found.get('Flat earth')?.question).toMatchObject({ type: 'true_false', correct: false });
    expect(found.get('Sun')?.question).toEqual({
      type: 'true_false',
      name: 'Sun',
      prompt: 'The Sun is a star.',
      points: 1,
      tags: [],
      correct: true,
    });
  });

  it('puts a blank where an answer block stood mid-sentence', () => {
    expect(found.get('Seine')?.question.prompt).toBe(
      'The Seine flows through _____ on its way to the sea.',
    );
  });

  it('reads only-= answers as short answer with weights', () => {
    expect(found.get('Capital typed')?.question).toMatchObject({
      type: 'short_answer',
      accepted: [
        { text: 'Paris', weight: 1 },
        { text: 'paris france', weight: 0.5 },
      ],
      caseSensitive: false,
    });
  });

  it('reads numeric answers: value:tolerance, a range, and the full-credit one of several', () => {
    expect(found.get('Pi')?.question).toMatchObject({
      type: 'numeric',
      prompt: 'What is pi to two decimals?',
      correct: 3.14,
      tolerance: 0.01,
    });
    expect(found.get('Range')?.question).toMatchObject({ correct: 3, tolerance: 2 });
    expect(found.get('Gravity')?.question).toMatchObject({
      type: 'numeric',
      correct: 9.81,
      tolerance: 0.005,
    });
  });

  it('reads shared ~%50% credit as multiple choice and tags it with its category', () => {
    expect(found.get('French rivers')).toEqual({
      line: 36,
      name: 'French rivers',
      question: {
        type: 'multiple_choice',
        name: 'French rivers',
        prompt: 'Which of these are French rivers?',
        points: 1,
        tags: ['rivers'],
        options: [
          { text: 'Seine', weight: 0.5 },
          { text: 'Loire', weight: 0.5 },
          { text: 'Alps', weight: -1 },
        ],
      },
    });
  });

  it('keeps partial credit on a single-choice question as weights', () => {
    expect(found.get('Weighted pick')?.question).toMatchObject({
      type: 'single_choice',
      options: [
        { text: 'Paris', weight: 1 },
        { text: 'Paris, France', weight: 0.5 },
        { text: 'London', weight: -0.25 },
      ],
    });
  });

  it('undoes escapes and \\n, and reads ####general feedback on {T}', () => {
    expect(found.get('Escapes')?.question).toEqual({
      type: 'true_false',
      name: 'Escapes',
      prompt: 'Is a = b {x} the same as 50% ~ off: see C:\\temp?\nSecond line.',
      explanation: 'Markdown: *yes*.',
      points: 1,
      tags: ['odds and ends'],
      correct: true,
    });
  });

  it('reads an untitled question, multi-line text and a comment inside a question', () => {
    expect(found.get('2 + 2 = ?')).toMatchObject({
      line: 46,
      question: { type: 'single_choice', options: [{ text: '4', correct: true }, {}, {}] },
    });
    expect(found.get('2 + 2 = ?')?.question.name).toBeUndefined();
    expect(found.get('Long river')?.question.prompt).toBe(
      'Read the clue carefully.\nWhich river is the longest\nentirely in France?',
    );
    expect(found.get('Red planet')?.question.prompt).toBe('Which planet looks red?');
  });

  it('reports unsupported types and a broken key as errors with name and line; the rest import', () => {
    expect(batch.errors).toEqual([
      { line: 60, name: 'Describe', type: 'essay', message: 'essay questions are not supported' },
      {
        line: 62,
        name: 'Match capitals',
        type: 'matching',
        message: 'matching questions are not supported',
      },
      {
        line: 68,
        name: 'Section intro',
        type: 'description',
        message: 'description questions are not supported',
      },
      {
        line: 70,
        name: 'Largest ocean',
        type: 'single_choice',
        message: 'options: exactly one option must be correct',
      },
    ]);
    expect(batch.questions).toHaveLength(14);
  });

  it('reads Windows line endings and a byte-order mark the same way', () => {
    const windows = `\uFEFF${fixture('corners.gift').replace(/\n/g, '\r\n')}`;
    expect(parseGift(windows)).toEqual(batch);
  });
});

describe('parseGift on damaged questions', () => {
  it('names what is wrong and where, and keeps going', () => {
    const batch = parseGift(
      [
        '::Open::Never closed {=a ~b',
        '',
        '::Bad number::Pi?{#three}',
        '',
        '::Stray text::Pick {one =a ~b}',
        '',
        '::Fine::Fine?{T}',
      ].join('\n'),
    );
    expect(batch.errors).toEqual([
      { line: 1, name: 'Open', message: 'the answer block has no closing }' },
      { line: 3, name: 'Bad number', type: 'numeric', message: '"three" is not a number' },
      {
        line: 5,
        name: 'Stray text',
        message: 'the answer block must be T/F, #number, or answers starting with = or ~',
      },
    ]);
    expect(batch.questions.map((entry) => entry.name)).toEqual(['Fine']);
  });
});

/** What GIFT can carry: no points, tags, language, level or case sensitivity. */
function asGiftCarries(question: ExportableQuestion): QuestionInput {
  const { language: _language, level: _level, ...input } = toInput(question);
  const carried = { ...input, points: 1, tags: [] };
  return carried.type === 'short_answer' ? { ...carried, caseSensitive: false } : carried;
}

describe('formatGift', () => {
  it('round-trips every supported type, weights, tolerance and special characters', () => {
    const { body, skipped } = formatGift(roundTripSet);
    const batch = parseGift(body);
    expect(batch.errors).toEqual([]);
    expect(batch.questions.map((entry) => entry.question)).toEqual(
      roundTripSet.filter((question) => question.type !== 'code').map(asGiftCarries),
    );
    expect(skipped).toEqual([{ id: 'q15', type: 'code', reason: 'GIFT has no code questions' }]);
  });

  it('writes GIFT a Moodle user recognises', () => {
    const pi = roundTripSet.find((question) => question.name === 'Pi');
    const seine = roundTripSet.find((question) => question.name === 'Missing word');
    expect(formatGift(pi ? [pi] : []).body).toBe(
      '::Pi::[markdown]What is pi to two decimals? {#3.14:0.01}\n',
    );
    expect(formatGift(seine ? [seine] : []).body).toBe(
      '::Missing word::[markdown]The Seine flows through {\n\t=Paris\n\t~Rome\n} on its way to the sea.\n',
    );
  });

  it('writes multiple choice keyed by correct flags as the equivalent weights', () => {
    const [flagged] = roundTripSet;
    const question = {
      ...flagged,
      type: 'multiple_choice',
      options: [
        { id: 'a', text: 'Helium', correct: true },
        { id: 'b', text: 'Neon', correct: true },
        { id: 'c', text: 'Nitrogen' },
      ],
    } as ExportableQuestion;
    const [entry] = parseGift(formatGift([question]).body).questions;
    expect(entry?.question).toMatchObject({
      type: 'multiple_choice',
      options: [
        { text: 'Helium', weight: 0.5 },
        { text: 'Neon', weight: 0.5 },
        { text: 'Nitrogen', weight: -0.5 },
      ],
    });
  });
});
