import { readFileSync } from 'node:fs';
import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import type { QuestionInput } from '../questions.schemas.ts';
import { type ExportableQuestion, type ParsedBatch, toInput } from './formats.types.ts';
import { formatMoodleXml, parseMoodleXml } from './moodle-xml.ts';

const fixture = (name: string) =>
  readFileSync(new URL(`../../../../test/fixtures/questions/${name}`, import.meta.url), 'utf8');
const roundTripSet = JSON.parse(fixture('roundtrip.staff.json')) as ExportableQuestion[];

function byName(batch: ParsedBatch) {
  return new Map(batch.questions.map((entry) => [entry.name, entry]));
}

describe('parseMoodleXml on a Moodle 4 export', () => {
  const batch = parseMoodleXml(fixture('corners.xml'));
  const found = byName(batch);

  it('reads single-answer multichoice with grade, feedback, tags, and html answers unwrapped', () => {
    expect(found.get('Water formula')).toEqual({
      line: 15,
      name: 'Water formula',
      question: {
        type: 'single_choice',
        name: 'Water formula',
        prompt: '<p dir="ltr" style="text-align: left;">What is the chemical formula of water?</p>',
        explanation: '<p>Two hydrogen atoms &amp; one oxygen atom.</p>',
        points: 2,
        tags: ['basics', 'molecules'],
        options: [
          // Real markup inside stays html; a lone paragraph of text becomes plain text.
          { text: '<p dir="ltr" style="text-align: left;">H<sub>2</sub>O<br></p>', correct: true },
          { text: 'CO 2' },
          { text: 'NaCl' },
        ],
      },
    });
  });

  it('reads multi-answer multichoice as weights, rounding 33.33333 to 0.3333333', () => {
    expect(found.get('Noble gases')).toEqual({
      line: 81,
      name: 'Noble gases',
      question: {
        type: 'multiple_choice',
        name: 'Noble gases',
        prompt: 'Which of these are noble gases?',
        points: 1,
        // The category before it was "…/Default for Chemistry 1/Gases".
        tags: ['gases'],
        options: [
          { text: 'Helium', weight: 0.3333333 },
          { text: 'Neon', weight: 0.3333333 },
          { text: 'Argon', weight: 0.3333333 },
          { text: 'Nitrogen', weight: -1 },
        ],
      },
    });
  });

  it('keeps partial credit on a single-answer multichoice as weights', () => {
    expect(found.get('Partial credit')?.question).toMatchObject({
      type: 'single_choice',
      options: [
        { text: '78%', weight: 1 },
        { text: 'About three quarters', weight: 0.5 },
        { text: '21%', weight: -0.3333333 },
      ],
    });
  });

  it('reads truefalse, markdown text and general feedback', () => {
    expect(found.get('Gold symbol')?.question).toEqual({
      type: 'true_false',
      name: 'Gold symbol',
      prompt: 'The symbol for gold is **Ag**.',
      explanation: 'Gold is Au; Ag is silver.',
      points: 1,
      tags: ['gases'],
      correct: false,
    });
  });

  it('reads shortanswer with usecase as case-sensitive, with fractions as weights', () => {
    expect(found.get('Element Na')?.question).toMatchObject({
      type: 'short_answer',
      accepted: [
        { text: 'Sodium', weight: 1 },
        { text: 'Natrium', weight: 0.5 },
      ],
      caseSensitive: true,
    });
  });

  it('reads numerical with tolerance, ignoring the * catch-all and units', () => {
    expect(found.get('Boiling point')?.question).toMatchObject({
      type: 'numeric',
      prompt: '<p>At sea level, water boils at how many &deg;C?</p>',
      points: 1.5,
      correct: 100,
      tolerance: 0.5,
    });
  });

  it('decodes XML entities in plain text', () => {
    expect(found.get('Symbols & signs')?.question).toMatchObject({
      prompt: `In a formula, is 2 < 3 && 3 > 2 true? Answer "yes" or 'no'.`,
      explanation: 'Both comparisons hold, so: yes & yes.',
      caseSensitive: false,
    });
  });

  it('skips categories, and reports unsupported types and a broken key with name and line', () => {
    expect(batch.errors).toEqual([
      {
        line: 206,
        name: 'Explain bonding',
        type: 'essay',
        message: 'essay questions are not supported',
      },
      {
        line: 234,
        name: 'Symbols',
        type: 'matching',
        message: 'matching questions are not supported',
      },
      {
        line: 264,
        name: 'Cloze salts',
        type: 'multianswer',
        message: 'multianswer (cloze) questions are not supported',
      },
      {
        line: 280,
        name: 'Part 2',
        type: 'description',
        message: 'description questions are not supported',
      },
      {
        line: 297,
        name: 'Moles',
        type: 'calculated',
        message: 'calculated questions are not supported',
      },
      {
        line: 326,
        name: 'Drag states',
        type: 'ddwtos',
        message: 'ddwtos questions are not supported',
      },
      {
        line: 352,
        name: 'Acid pH',
        type: 'single_choice',
        message: 'options: exactly one option must be correct',
      },
    ]);
    expect(batch.questions.map((entry) => entry.name)).toEqual([
      'Water formula',
      'Noble gases',
      'Gold symbol',
      'Element Na',
      'Boiling point',
      'Symbols & signs',
      'Partial credit',
    ]);
  });
});

describe('parseMoodleXml on documents that are not Moodle XML', () => {
  it('gives one error with the line for XML that does not parse', () => {
    const batch = parseMoodleXml(
      '<?xml version="1.0"?>\n<quiz>\n  <question type="truefalse">\n</quiz>\n',
    );
    expect(batch.questions).toEqual([]);
    expect(batch.errors).toHaveLength(1);
    expect(batch.errors[0]).toMatchObject({ line: 4 });
    expect(batch.errors[0]?.message).toMatch(/^not well-formed XML: /);
  });

  it('gives one error for a different root element', () => {
    expect(parseMoodleXml('<questions><question type="truefalse"/></questions>')).toEqual({
      questions: [],
      errors: [{ message: 'not a Moodle XML question file: the root element must be <quiz>' }],
    });
  });

  it('reports a question without a type', () => {
    const batch = parseMoodleXml(
      '<quiz>\n<question><name><text>Q1</text></name></question>\n</quiz>',
    );
    expect(batch.errors).toEqual([
      { line: 2, name: 'Q1', message: 'the question has no type attribute' },
    ]);
  });
});

/** What Moodle XML carries: everything but language and level. */
function asXmlCarries(question: ExportableQuestion): QuestionInput {
  const { language: _language, level: _level, ...input } = toInput(question);
  return input;
}

describe('formatMoodleXml', () => {
  it('round-trips every supported type with points, tags, weights, tolerance and case', () => {
    const { body, skipped } = formatMoodleXml(roundTripSet);
    expect(XMLValidator.validate(body)).toBe(true);
    const batch = parseMoodleXml(body);
    expect(batch.errors).toEqual([]);
    expect(batch.questions.map((entry) => entry.question)).toEqual(
      roundTripSet.filter((question) => question.type !== 'code').map(asXmlCarries),
    );
    expect(skipped).toEqual([
      { id: 'q15', type: 'code', reason: 'Moodle XML has no code questions' },
    ]);
  });

  it('escapes < and & so they survive', () => {
    const [specials] = roundTripSet;
    const { body } = formatMoodleXml(specials ? [specials] : []);
    expect(body).toContain('<text>Q&amp;A &lt;1&gt;: specials</text>');
    expect(body).toContain('<text>x &lt; y &amp;&amp; y &gt; z</text>');
    const [entry] = parseMoodleXml(body).questions;
    expect(entry?.question).toMatchObject({
      name: 'Q&A <1>: specials',
      explanation: 'Because {x} ≠ b; and 1 < 2 & 3 > 2.',
      options: [{}, {}, {}, { text: 'x < y && y > z' }],
    });
  });

  it('writes multiple choice keyed by correct flags as the equivalent fractions', () => {
    const [flagged] = roundTripSet;
    const question = {
      ...flagged,
      type: 'multiple_choice',
      options: [
        { id: 'a', text: 'Helium', correct: true },
        { id: 'b', text: 'Neon', correct: true },
        { id: 'c', text: 'Argon', correct: true },
        { id: 'd', text: 'Nitrogen' },
      ],
    } as ExportableQuestion;
    const { body } = formatMoodleXml([question]);
    expect(body).toContain('<single>false</single>');
    expect(body).toContain('<answer fraction="33.33333" format="plain_text">');
    expect(body).toContain('<answer fraction="-33.33333" format="plain_text">');
    expect(parseMoodleXml(body).questions[0]?.question).toMatchObject({
      type: 'multiple_choice',
      options: [
        { weight: 0.3333333 },
        { weight: 0.3333333 },
        { weight: 0.3333333 },
        { weight: -0.3333333 },
      ],
    });
  });

  it('does not expand entities declared in a DOCTYPE (no billion laughs)', () => {
    const levels = Array.from({ length: 8 }, (_, index) => {
      const inner = index === 0 ? 'lol'.repeat(30) : `&l${index - 1};`.repeat(10);
      return `<!ENTITY l${index} "${inner}">`;
    }).join('');
    const document = `<?xml version="1.0"?><!DOCTYPE quiz [${levels}]><quiz><question type="truefalse"><name><text>&l7;</text></name><questiontext><text>&l7;</text></questiontext><answer fraction="100"><text>true</text></answer><answer fraction="0"><text>false</text></answer></question></quiz>`;
    // Fully expanded, one field would be 900 million characters.
    expect(JSON.stringify(parseMoodleXml(document)).length).toBeLessThan(10_000);
  });
});
