/**
 * Moodle XML (`<quiz><question type="…">…</question></quiz>`), read and written from Moodle's
 * documented format. Read with fast-xml-parser; written by hand so the layout matches Moodle's.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { QuestionInput } from '../questions.schemas.ts';
import {
  addCandidate,
  categoryTag,
  compact,
  type ExportableQuestion,
  emptyBatch,
  errorAt,
  type FormattedBatch,
  type Origin,
  optionWeights,
  type ParsedBatch,
  percentFromWeight,
  type SkippedQuestion,
  stripBom,
  toInput,
  weightFromPercent,
  withTag,
} from './formats.types.ts';

type XmlNode = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  // Moodle writes `&#039;` and the like, which the default entity handling leaves as typed.
  // (Deprecated in favour of `entityDecoder`, but still the plain switch in v5.)
  htmlEntities: true,
  isArray: (_name, jpath) =>
    jpath === 'quiz.question' ||
    jpath === 'quiz.question.answer' ||
    jpath === 'quiz.question.tags.tag',
});

const isNode = (value: unknown): value is XmlNode =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const asArray = (value: unknown): unknown[] =>
  Array.isArray(value) ? value : value === undefined ? [] : [value];

/** Text of an element, whether it parsed to a string or to an object with attributes. */
function nodeText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (isNode(value)) return nodeText(value['#text']);
  return '';
}

/** `<x><text>…</text></x>`, Moodle's wrapper for every text field. */
const textOf = (value: unknown): string => (isNode(value) ? nodeText(value.text) : '');
const attr = (node: unknown, name: string): string | undefined =>
  isNode(node) && typeof node[`@_${name}`] === 'string' ? (node[`@_${name}`] as string) : undefined;

const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
};

/**
 * Moodle's editor stores even a one-word answer as `<p dir="ltr">4<br></p>`. An option is plain
 * text in Assay, so a lone paragraph of plain text is unwrapped; anything richer stays html.
 */
function answerText(answer: unknown): string {
  const text = textOf(answer);
  if (attr(answer, 'format') !== 'html') return text.trim();
  const paragraph = /^\s*<p(?:\s[^>]*)?>([\s\S]*?)(?:<br\s*\/?>)?\s*<\/p>\s*$/i.exec(text);
  const inner = paragraph ? (paragraph[1] ?? '') : text;
  if (/<[a-z/!]/i.test(inner)) return text.trim();
  return inner
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity, name: string) => {
      if (!name.startsWith('#')) return ENTITIES[name.toLowerCase()] ?? entity;
      const hex = name[1] === 'x' || name[1] === 'X';
      const code = hex ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
      return code <= 0x10ffff ? String.fromCodePoint(code) : entity;
    })
    .trim();
}

/** Moodle writes booleans as `true`/`false` or `1`/`0`. */
function flag(value: unknown, fallback: boolean): boolean {
  const text = nodeText(value).trim().toLowerCase();
  if (text === '') return fallback;
  return text === 'true' || text === '1';
}

/**
 * The line each `<question` starts on, in document order, which is the order the parser lists
 * them; comments and CDATA are skipped so a `<question` inside them does not count.
 */
function questionLines(xml: string): number[] {
  const lines: number[] = [];
  let line = 1;
  for (const match of xml.matchAll(
    /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<question(?=[\s/>])|\n/g,
  )) {
    const token = match[0];
    if (token === '\n') line++;
    else if (token.startsWith('<question')) lines.push(line);
    else line += token.split('\n').length - 1;
  }
  return lines;
}

type Answer = { text: string; fraction: number; node: unknown };
type Reading = { fields: Record<string, unknown> } | { error: string };

function readChoice(answers: Answer[], single: boolean): Reading {
  const options = answers.map((answer) => ({
    text: answer.text,
    weight: weightFromPercent(answer.fraction),
  }));
  if (!single) return { fields: { type: 'multiple_choice', options } };
  // The everyday single-answer question (100 on one, 0 on the rest) needs no weights.
  const plain = options.every((option) => option.weight === 0 || option.weight === 1);
  return {
    fields: {
      type: 'single_choice',
      options: plain
        ? options.map(({ text, weight }) => (weight === 1 ? { text, correct: true } : { text }))
        : options,
    },
  };
}

function readKey(type: string, node: XmlNode, answers: Answer[]): Reading {
  switch (type) {
    case 'multichoice':
      return readChoice(answers, flag(node.single, true));
    case 'truefalse': {
      const right = answers.find((answer) => answer.fraction === 100);
      if (!right) return { error: 'neither true nor false has fraction 100' };
      return { fields: { type: 'true_false', correct: right.text.toLowerCase() === 'true' } };
    }
    case 'shortanswer':
      return {
        fields: {
          type: 'short_answer',
          accepted: answers.map((answer) => ({
            text: answer.text,
            weight: weightFromPercent(answer.fraction),
          })),
          caseSensitive: flag(node.usecase, false),
        },
      };
    case 'numerical': {
      // Assay keeps one value and tolerance: the first full-credit answer (`*` means "any").
      const right = answers.find((answer) => answer.fraction === 100 && answer.text !== '*');
      if (!right) return { error: 'no numeric answer has fraction 100' };
      const tolerance = isNode(right.node) ? nodeText(right.node.tolerance).trim() : '';
      return {
        fields: {
          type: 'numeric',
          correct: right.text === '' ? Number.NaN : Number(right.text),
          tolerance: tolerance === '' ? 0 : Number(tolerance),
        },
      };
    }
    default:
      return {
        error: `${type === 'multianswer' ? 'multianswer (cloze)' : type} questions are not supported`,
      };
  }
}

/** The Assay type a supported Moodle type becomes, for error entries; others keep Moodle's. */
function assayType(type: string, node: XmlNode): string {
  if (type === 'multichoice') return flag(node.single, true) ? 'single_choice' : 'multiple_choice';
  const types: Record<string, string> = {
    truefalse: 'true_false',
    shortanswer: 'short_answer',
    numerical: 'numeric',
  };
  return types[type] ?? type;
}

function readQuestion(
  node: XmlNode,
  type: string,
  name: string | undefined,
  category: string | undefined,
): { error: string } | { candidate: unknown } {
  const answers: Answer[] = asArray(node.answer).map((answer) => ({
    text: answerText(answer),
    fraction: Number(attr(answer, 'fraction') ?? 0),
    node: answer,
  }));
  const key = readKey(type, node, answers);
  if ('error' in key) return key;
  const badFraction = answers.findIndex((answer) => !Number.isFinite(answer.fraction));
  if (badFraction >= 0) return { error: `answer[${badFraction}]: fraction is not a number` };
  const grade = nodeText(node.defaultgrade).trim();
  const tags = asArray(isNode(node.tags) ? node.tags.tag : undefined).map(textOf);
  return {
    candidate: compact({
      ...key.fields,
      name,
      prompt: textOf(node.questiontext).trim(),
      explanation: textOf(node.generalfeedback).trim() || undefined,
      points: grade === '' ? undefined : Number(grade),
      tags: withTag(tags, category),
    }),
  };
}

export function parseMoodleXml(content: string): ParsedBatch {
  const batch = emptyBatch();
  const xml = stripBom(content);
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    batch.errors.push({ line: valid.err.line, message: `not well-formed XML: ${valid.err.msg}` });
    return batch;
  }
  let document: unknown;
  try {
    document = parser.parse(xml);
  } catch (error) {
    batch.errors.push({ message: `not well-formed XML: ${(error as Error).message}` });
    return batch;
  }
  if (!isNode(document) || !('quiz' in document)) {
    batch.errors.push({
      message: 'not a Moodle XML question file: the root element must be <quiz>',
    });
    return batch;
  }
  const lines = questionLines(xml);
  let category: string | undefined;
  asArray(isNode(document.quiz) ? document.quiz.question : undefined).forEach((node, index) => {
    const origin: Origin = {
      line: lines[index],
      name: textOf(isNode(node) ? node.name : undefined).trim() || undefined,
      type: attr(node, 'type'),
    };
    if (!isNode(node) || origin.type === undefined) {
      batch.errors.push(errorAt(origin, 'the question has no type attribute'));
      return;
    }
    if (origin.type === 'category') {
      category = categoryTag(textOf(node.category));
      return;
    }
    const read = readQuestion(node, origin.type, origin.name, category);
    const where = { ...origin, type: assayType(origin.type, node) };
    if ('error' in read) batch.errors.push(errorAt(where, read.error));
    else addCandidate(batch, read.candidate, where);
  });
  return batch;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: XML 1.0 cannot carry these even as references.
const INVALID_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

function escapeXml(text: string): string {
  return text
    .replace(INVALID_XML_CHARS, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

const textElement = (tag: string, text: string, format?: string) =>
  `    <${tag}${format ? ` format="${format}"` : ''}>\n      <text>${escapeXml(text)}</text>\n    </${tag}>`;

function answerXml(fraction: number, text: string, extra = ''): string {
  return `    <answer fraction="${fraction}" format="plain_text">\n      <text>${escapeXml(text)}</text>${extra}\n    </answer>`;
}

function typeSpecific(input: QuestionInput): { type: string; lines: string[] } {
  switch (input.type) {
    case 'single_choice':
    case 'multiple_choice': {
      const weights = optionWeights(input);
      return {
        type: 'multichoice',
        lines: [
          `    <single>${input.type === 'single_choice'}</single>`,
          '    <shuffleanswers>true</shuffleanswers>',
          '    <answernumbering>abc</answernumbering>',
          ...input.options.map((option, index) =>
            answerXml(percentFromWeight(weights[index] ?? 0), option.text),
          ),
        ],
      };
    }
    case 'true_false':
      return {
        type: 'truefalse',
        lines: [
          answerXml(input.correct ? 100 : 0, 'true'),
          answerXml(input.correct ? 0 : 100, 'false'),
        ],
      };
    case 'short_answer':
      return {
        type: 'shortanswer',
        lines: [
          `    <usecase>${input.caseSensitive ? 1 : 0}</usecase>`,
          ...input.accepted.map((accepted) => {
            const { text, weight = 1 } =
              typeof accepted === 'string' ? { text: accepted } : accepted;
            return answerXml(percentFromWeight(weight), text);
          }),
        ],
      };
    case 'numeric':
      return {
        type: 'numerical',
        lines: [
          answerXml(
            100,
            String(input.correct),
            `\n      <tolerance>${input.tolerance}</tolerance>`,
          ),
        ],
      };
    case 'code':
      return { type: 'code', lines: [] };
  }
}

function questionXml(input: QuestionInput): string {
  const { type, lines } = typeSpecific(input);
  const tags =
    input.tags.length > 0
      ? [
          '    <tags>',
          ...input.tags.map((tag) => `      <tag><text>${escapeXml(tag)}</text></tag>`),
          '    </tags>',
        ]
      : [];
  return [
    `  <question type="${type}">`,
    textElement('name', input.name ?? ''),
    textElement('questiontext', input.prompt, 'markdown'),
    textElement('generalfeedback', input.explanation ?? '', 'markdown'),
    `    <defaultgrade>${input.points}</defaultgrade>`,
    '    <hidden>0</hidden>',
    ...lines,
    ...tags,
    '  </question>',
  ].join('\n');
}

/** Moodle XML carries name, prompt, explanation, points, tags and the key; not language or level. */
export function formatMoodleXml(questions: ExportableQuestion[]): FormattedBatch {
  const chunks: string[] = [];
  const skipped: SkippedQuestion[] = [];
  for (const question of questions) {
    if (question.type === 'code') {
      skipped.push({
        id: question.id,
        type: question.type,
        reason: 'Moodle XML has no code questions',
      });
      continue;
    }
    chunks.push(questionXml(toInput(question)));
  }
  return {
    body: ['<?xml version="1.0" encoding="UTF-8"?>', '<quiz>', ...chunks, '</quiz>', ''].join('\n'),
    skipped,
  };
}
