import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type ExportableQuestion, toInput } from './formats.types.ts';
import { exportQuestions, parseQuestions } from './index.ts';
import { formatJson, parseJson } from './json.ts';

const fixture = (name: string) =>
  readFileSync(new URL(`../../../../test/fixtures/questions/${name}`, import.meta.url), 'utf8');
const roundTripSet = JSON.parse(fixture('roundtrip.staff.json')) as ExportableQuestion[];

describe('parseJson', () => {
  const batch = parseJson(fixture('corners.json'));

  it('imports valid questions with their line, including ones pasted from the API', () => {
    expect(batch.questions.map(({ line, name }) => ({ line, name }))).toEqual([
      { line: 3, name: 'Capital of France' },
      { line: 13, name: undefined },
      { line: 18, name: 'Pasted from the API' },
      { line: 55, name: 'Pasted with option ids' },
    ]);
    expect(batch.questions[0]?.question).toEqual({
      type: 'single_choice',
      name: 'Capital of France',
      prompt: 'Which city is the capital of France?',
      explanation: 'Paris has been the capital for most of the last thousand years.',
      points: 2,
      tags: ['geography', 'europe'],
      level: 'beginner',
      options: [{ text: 'Paris', correct: true }, { text: 'Lyon' }, { text: 'Marseille' }],
    });
    expect(batch.questions[2]?.question).toEqual({
      type: 'numeric',
      name: 'Pasted from the API',
      prompt: 'What is pi to two decimals?',
      points: 1,
      tags: [],
      correct: 3.14,
      tolerance: 0.01,
    });
    expect(batch.questions[3]?.question).toMatchObject({
      options: [
        { text: 'Helium', correct: true },
        { text: 'Neon', correct: true },
        { text: 'Nitrogen' },
      ],
    });
  });

  it('reports a broken key, an unsupported type, a typo and a non-object with their lines', () => {
    expect(batch.errors).toEqual([
      {
        line: 34,
        name: 'Two right answers',
        type: 'single_choice',
        message: 'options: exactly one option must be correct',
      },
      { line: 44, name: 'Essay', type: 'essay', message: 'essay questions are not supported' },
      {
        line: 49,
        name: 'Typo in a field',
        type: 'true_false',
        message: expect.stringMatching(/^correct: .*; Unrecognized key: "corect"$/),
      },
      { line: 74, message: 'a question must be a JSON object' },
    ]);
  });

  it('accepts a bare array', () => {
    const batch = parseJson(
      '[\n  { "type": "true_false", "prompt": "Water is wet.", "correct": true },\n  { "type": "numeric", "prompt": "1+1?", "correct": 2 }\n]',
    );
    expect(batch.errors).toEqual([]);
    expect(batch.questions.map((entry) => [entry.line, entry.question.type])).toEqual([
      [2, 'true_false'],
      [3, 'numeric'],
    ]);
  });

  it('gives one error with the line for JSON that does not parse', () => {
    const batch = parseJson('{\n  "questions": [\n    { "type": "true_false",, }\n  ]\n}');
    expect(batch.questions).toEqual([]);
    expect(batch.errors).toEqual([
      { line: 3, message: expect.stringMatching(/^not valid JSON: /) },
    ]);
  });

  it('gives one error for JSON of another shape', () => {
    expect(parseJson('{ "items": [] }').errors).toEqual([
      { message: 'expected { "questions": [ … ] } or an array of questions' },
    ]);
  });
});

describe('formatJson', () => {
  it('round-trips every field of every type, code questions included', () => {
    const { body, skipped } = formatJson(roundTripSet);
    const batch = parseJson(body);
    expect(batch.errors).toEqual([]);
    expect(skipped).toEqual([]);
    expect(batch.questions.map((entry) => entry.question)).toEqual(roundTripSet.map(toInput));
  });

  it('leaves out ids, authors, timestamps and nulls so the file re-imports cleanly', () => {
    const [first] = roundTripSet;
    const written = JSON.parse(formatJson(first ? [first] : []).body);
    expect(written).toEqual({
      questions: [
        {
          type: 'single_choice',
          name: 'Q&A <1>: specials',
          prompt:
            'Is a = b {x} true? Compare 50% ~ off, ::colons::, C:\\temp, a literal \\n, # and ####.',
          explanation: 'Because {x} ≠ b; and 1 < 2 & 3 > 2.',
          points: 2,
          tags: ['algebra', 'escapes'],
          language: 'en',
          level: 'beginner',
          options: [
            { text: '50% ~ off', correct: true },
            { text: 'a = b {x}' },
            { text: '%d is a format' },
            { text: 'x < y && y > z' },
          ],
        },
      ],
    });
  });
});

describe('parseQuestions and exportQuestions', () => {
  it('pick the format by name and say how to send the file', () => {
    expect(exportQuestions('gift', roundTripSet)).toMatchObject({
      contentType: 'text/plain; charset=utf-8',
      extension: 'txt',
      skipped: [{ id: 'q15', type: 'code' }],
    });
    expect(exportQuestions('moodle-xml', [])).toMatchObject({
      contentType: 'application/xml; charset=utf-8',
      extension: 'xml',
      skipped: [],
    });
    const json = exportQuestions('json', roundTripSet);
    expect(json).toMatchObject({
      contentType: 'application/json; charset=utf-8',
      extension: 'json',
    });
    expect(parseQuestions('json', json.body).questions).toHaveLength(roundTripSet.length);
    expect(parseQuestions('gift', '::T::True?{T}').questions).toHaveLength(1);
    expect(parseQuestions('moodle-xml', '<quiz></quiz>')).toEqual({ questions: [], errors: [] });
  });
});
