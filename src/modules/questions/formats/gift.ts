/**
 * GIFT, Moodle's plain-text question format, read and written from its published description.
 * A question is a block of lines (blank lines separate questions):
 * `::name::[format]text {answers} more text`, with `\` escaping `~ = # { } :` and `\n`.
 */
import type { QuestionInput } from '../questions.schemas.ts';
import {
  addCandidate,
  BLANK,
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
} from './formats.types.ts';

const ESCAPABLE = new Set(['~', '=', '#', '{', '}', ':', '\\']);

function unescapeGift(raw: string): string {
  let out = '';
  for (let index = 0; index < raw.length; index++) {
    const char = raw[index];
    const next = raw[index + 1];
    if (char === '\\' && next !== undefined && (next === 'n' || ESCAPABLE.has(next))) {
      out += next === 'n' ? '\n' : next;
      index++;
    } else {
      out += char;
    }
  }
  return out;
}

/** Index of `token` outside escapes, or −1. */
function findUnescaped(text: string, token: string, from = 0): number {
  for (let index = from; index < text.length; index++) {
    if (text[index] === '\\') index++;
    else if (text.startsWith(token, index)) return index;
  }
  return -1;
}

type Block = { line: number; text: string } | { line: number; category: string };

/** Splits the file into question blocks; comment lines vanish without ending a block. */
function blocks(content: string): Block[] {
  const lines = stripBom(content).replace(/\r\n?/g, '\n').split('\n');
  const found: Block[] = [];
  let current: { line: number; lines: string[] } | undefined;
  const close = () => {
    if (current) found.push({ line: current.line, text: current.lines.join('\n') });
    current = undefined;
  };
  for (const [index, line] of lines.entries()) {
    const trimmed = line.trim();
    if (trimmed.startsWith('//')) continue;
    if (trimmed === '' || trimmed.startsWith('$CATEGORY:')) close();
    if (trimmed.startsWith('$CATEGORY:')) {
      found.push({ line: index + 1, category: trimmed.slice('$CATEGORY:'.length).trim() });
    } else if (trimmed !== '') {
      current ??= { line: index + 1, lines: [] };
      current.lines.push(line);
    }
  }
  close();
  return found;
}

type Answer = { marker: '=' | '~'; weight?: number; text: string; raw: string };

/** Splits `=a#fb ~%50%b` into answers; `leading` is whatever came before the first marker. */
function splitAnswers(inner: string): { leading: string; answers: Answer[] } {
  const parts: Array<{ marker: '=' | '~'; raw: string }> = [];
  let leading = '';
  for (let index = 0; index < inner.length; index++) {
    const char = inner[index] ?? '';
    const piece = char === '\\' ? inner.slice(index, index + 2) : char;
    if (char === '\\') index++;
    if (char === '=' || char === '~') {
      parts.push({ marker: char, raw: '' });
      continue;
    }
    const last = parts.at(-1);
    if (last) last.raw += piece;
    else leading += piece;
  }
  const answers = parts.map(({ marker, raw }) => {
    const weight = /^\s*%(-?\d+(?:\.\d+)?)%/.exec(raw);
    const rest = weight ? raw.slice(weight[0].length) : raw;
    const feedback = findUnescaped(rest, '#');
    const text = unescapeGift(feedback < 0 ? rest : rest.slice(0, feedback)).trim();
    return {
      marker,
      raw,
      text,
      ...(weight ? { weight: weightFromPercent(Number(weight[1])) } : {}),
    };
  });
  return { leading, answers };
}

const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/** `3.14:0.01`, `1..5` or `3.14`; a range becomes its midpoint ± half its width. */
function numericValue(raw: string): { correct: number; tolerance: number } | string {
  const value = raw.trim();
  const range = /^(.+?)\.\.(.+)$/.exec(value);
  const parts = range ? [range[1], range[2]] : value.split(':');
  const numbers = parts.map((part) => part?.trim() ?? '');
  const bad = numbers.find((part) => !NUMBER.test(part));
  if (bad !== undefined || numbers.length > 2) return `"${value}" is not a number`;
  const [first, second] = numbers.map(Number) as [number, number | undefined];
  if (range && second !== undefined) {
    const [low, high] = [Math.min(first, second), Math.max(first, second)];
    return {
      correct: Number(((low + high) / 2).toPrecision(12)),
      tolerance: Number(((high - low) / 2).toPrecision(12)),
    };
  }
  return { correct: first, tolerance: second ?? 0 };
}

type Reading =
  | { fields: Record<string, unknown> & { type: QuestionInput['type'] } }
  | { unsupported: string }
  | { invalid: string; type?: string };

function readNumeric(body: string): Reading {
  if (!/^\s*[=~]/.test(body)) {
    const feedback = findUnescaped(body, '#');
    const value = numericValue(unescapeGift(feedback < 0 ? body : body.slice(0, feedback)));
    return typeof value === 'string'
      ? { invalid: value, type: 'numeric' }
      : { fields: { type: 'numeric', ...value } };
  }
  // Several answers: Assay keeps one value and tolerance, so the full-credit answer wins.
  const { answers } = splitAnswers(body);
  const full = answers.find((answer) => answer.marker === '=' && (answer.weight ?? 1) === 1);
  if (!full) return { invalid: 'no numeric answer is worth full marks', type: 'numeric' };
  const value = numericValue(full.text);
  return typeof value === 'string'
    ? { invalid: value, type: 'numeric' }
    : { fields: { type: 'numeric', ...value } };
}

/**
 * Choice questions: a full-credit `=` answer makes single choice. Answers that share the credit
 * make multiple choice: all-`~` answers with some positive weight (`~%50%a ~%50%b ~%-100%c`,
 * even `~%100%a ~%-100%b`, which is how a one-right multiple choice is written back), or `=`
 * answers none of which is worth full marks.
 */
function readChoice(answers: Answer[]): Reading {
  const weights = answers.map((answer) => answer.weight ?? (answer.marker === '=' ? 1 : 0));
  const hasFull = answers.some((answer, index) => answer.marker === '=' && weights[index] === 1);
  const single = hasFull || !weights.some((weight) => weight > 0);
  if (single && weights.every((weight) => weight === 0 || weight === 1)) {
    return {
      fields: {
        type: 'single_choice',
        options: answers.map((answer, index) =>
          weights[index] === 1 ? { text: answer.text, correct: true } : { text: answer.text },
        ),
      },
    };
  }
  return {
    fields: {
      type: single ? 'single_choice' : 'multiple_choice',
      options: answers.map((answer, index) => ({ text: answer.text, weight: weights[index] })),
    },
  };
}

function readAnswers(inner: string): Reading {
  const trimmed = inner.trim();
  if (trimmed === '') return { unsupported: 'essay' };
  if (trimmed.startsWith('#')) return readNumeric(trimmed.slice(1));
  const truth = /^(true|false|t|f)\s*(?:#|$)/i.exec(trimmed);
  if (truth) {
    return {
      fields: { type: 'true_false', correct: (truth[1] ?? '').toLowerCase().startsWith('t') },
    };
  }
  const { leading, answers } = splitAnswers(inner);
  if (leading.trim() !== '' || answers.length === 0) {
    return { invalid: 'the answer block must be T/F, #number, or answers starting with = or ~' };
  }
  if (answers.every((answer) => answer.marker === '=' && findUnescaped(answer.raw, '->') >= 0)) {
    return { unsupported: 'matching' };
  }
  if (answers.every((answer) => answer.marker === '=')) {
    return {
      fields: {
        type: 'short_answer',
        accepted: answers.map((answer) => ({ text: answer.text, weight: answer.weight ?? 1 })),
        caseSensitive: false,
      },
    };
  }
  return readChoice(answers);
}

function readQuestion(
  text: string,
  line: number,
  category: string | undefined,
): { origin: Origin; candidate?: unknown; error?: string } {
  let rest = text.trim();
  let name: string | undefined;
  if (rest.startsWith('::')) {
    const end = findUnescaped(rest, '::', 2);
    if (end < 0) return { origin: { line }, error: 'the ::name:: title is not closed' };
    name = unescapeGift(rest.slice(2, end)).trim() || undefined;
    rest = rest.slice(end + 2);
  }
  // Format markers only say how Moodle should render the text; Assay renders markdown, which
  // accepts inline html, so the text is kept as written.
  rest = rest.replace(/^\s*\[(?:html|moodle|plain|markdown)\]/i, '');
  const origin: Origin = { line, name };
  const open = findUnescaped(rest, '{');
  if (open < 0) {
    return {
      origin: { ...origin, type: 'description' },
      error: 'description questions are not supported',
    };
  }
  const close = findUnescaped(rest, '}', open + 1);
  if (close < 0) return { origin, error: 'the answer block has no closing }' };
  const before = rest.slice(0, open);
  const after = rest.slice(close + 1);
  if (findUnescaped(after, '{') >= 0) {
    return { origin, error: 'only one answer block per question is supported' };
  }
  let inner = rest.slice(open + 1, close);
  const general = findUnescaped(inner, '####');
  const explanation = general < 0 ? undefined : unescapeGift(inner.slice(general + 4)).trim();
  if (general >= 0) inner = inner.slice(0, general);

  const reading = readAnswers(inner);
  if ('unsupported' in reading) {
    return {
      origin: { ...origin, type: reading.unsupported },
      error: `${reading.unsupported} questions are not supported`,
    };
  }
  if ('invalid' in reading)
    return { origin: { ...origin, type: reading.type }, error: reading.invalid };
  const prompt =
    after.trim() === ''
      ? unescapeGift(before)
      : `${unescapeGift(before)}${BLANK}${unescapeGift(after)}`;
  return {
    origin: { ...origin, type: reading.fields.type },
    candidate: compact({
      ...reading.fields,
      name,
      prompt: prompt.trim(),
      explanation: explanation || undefined,
      tags: category ? [category] : [],
    }),
  };
}

export function parseGift(content: string): ParsedBatch {
  const batch = emptyBatch();
  let category: string | undefined;
  for (const block of blocks(content)) {
    if ('category' in block) {
      category = categoryTag(block.category);
      continue;
    }
    const read = readQuestion(block.text, block.line, category);
    if (read.error !== undefined) batch.errors.push(errorAt(read.origin, read.error));
    else addCandidate(batch, read.candidate, read.origin);
  }
  return batch;
}

function escapeGift(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/[\\~=#{}:]/g, '\\$&')
    .replace(/\n/g, '\\n');
}

const percent = (weight: number) => `%${percentFromWeight(weight)}%`;

/** One answer line; a text starting with `%` gets an explicit weight so it is not read as one. */
function answer(marker: '=' | '~', weight: string, text: string): string {
  const explicit = weight || (text.startsWith('%') ? (marker === '=' ? '%100%' : '%0%') : '');
  return `\t${marker}${explicit}${escapeGift(text)}`;
}

function answerLines(input: QuestionInput): string[] | string {
  switch (input.type) {
    case 'single_choice':
    case 'multiple_choice': {
      const weights = optionWeights(input);
      return input.options.map((option, index) => {
        const weight = weights[index] ?? 0;
        if (input.type === 'multiple_choice') return answer('~', percent(weight), option.text);
        if (weight === 1) return answer('=', '', option.text);
        return answer('~', weight === 0 ? '' : percent(weight), option.text);
      });
    }
    case 'short_answer':
      return input.accepted.map((accepted) => {
        const { text, weight = 1 } = typeof accepted === 'string' ? { text: accepted } : accepted;
        return answer('=', weight === 1 ? '' : percent(weight), text);
      });
    case 'true_false':
      return input.correct ? 'TRUE' : 'FALSE';
    case 'numeric':
      return `#${input.correct}${input.tolerance ? `:${input.tolerance}` : ''}`;
    case 'code':
      return '';
  }
}

function giftQuestion(input: QuestionInput): string {
  const lines = answerLines(input);
  const feedback = input.explanation ? `####${escapeGift(input.explanation)}` : '';
  const block =
    typeof lines === 'string'
      ? `{${lines}${feedback}}`
      : `{\n${[...lines, ...(feedback ? [`\t${feedback}`] : [])].join('\n')}\n}`;
  // The block goes where the blank is, unless the blank ends the text (it would not come back).
  const blank = input.prompt.indexOf(BLANK);
  const [before, after] =
    blank >= 0 && input.prompt.slice(blank + BLANK.length).trim() !== ''
      ? [input.prompt.slice(0, blank), input.prompt.slice(blank + BLANK.length)]
      : [`${input.prompt} `, ''];
  const title = input.name ? `::${escapeGift(input.name)}::` : '';
  return `${title}[markdown]${escapeGift(before)}${block}${escapeGift(after)}`;
}

/** GIFT carries name, prompt, explanation and the key; not points, tags, language or level. */
export function formatGift(questions: ExportableQuestion[]): FormattedBatch {
  const chunks: string[] = [];
  const skipped: SkippedQuestion[] = [];
  for (const question of questions) {
    if (question.type === 'code') {
      skipped.push({ id: question.id, type: question.type, reason: 'GIFT has no code questions' });
      continue;
    }
    chunks.push(giftQuestion(toInput(question)));
  }
  return { body: chunks.length > 0 ? `${chunks.join('\n\n')}\n` : '', skipped };
}
