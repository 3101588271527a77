/**
 * Assay's own JSON: `{ "questions": [ …questionInput… ] }` (a bare array is accepted too).
 * Export writes exactly what create accepts, so a file re-imports unchanged.
 */
import { QUESTION_TYPES } from '../questions.models.ts';
import {
  addCandidate,
  type ExportableQuestion,
  emptyBatch,
  errorAt,
  type FormattedBatch,
  type ParsedBatch,
  stripBom,
  toInput,
} from './formats.types.ts';

const TYPES: ReadonlySet<string> = new Set(QUESTION_TYPES);

type JsonObject = Record<string, unknown>;
const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const lineAt = (text: string, offset: number) => text.slice(0, offset).split('\n').length;

/**
 * The line each element of the question array starts on. JSON.parse gives no positions, so this
 * walks the (already valid) text: the array is the root, or the root object's "questions".
 */
function elementLines(text: string, rootIsArray: boolean): number[] {
  let lines: number[] = [];
  let depth = 0;
  let target = rootIsArray ? 1 : -1;
  let awaiting = false;
  let lastKey = '';
  // Valid JSON has raw newlines only between tokens, so counting them there is enough.
  let line = 1;
  for (let index = 0; index < text.length; index++) {
    const char = text[index] ?? '';
    if (char === '\n') line++;
    if (char === ' ' || char === '\t' || char === '\n' || char === '\r') continue;
    if (awaiting && depth === target && char !== ']') {
      lines.push(line);
      awaiting = false;
    }
    if (char === '"') {
      const start = index;
      for (index++; index < text.length && text[index] !== '"'; index++) {
        if (text[index] === '\\') index++;
      }
      if (depth === 1) lastKey = text.slice(start + 1, index);
    } else if (char === '{' || char === '[') {
      depth++;
      // In the root object, a `[` right after a key is that key's value.
      if (char === '[' && depth === 2 && !rootIsArray && lastKey === 'questions') {
        target = 2;
        lines = [];
      }
      if (depth === target && char === '[') awaiting = true;
    } else if (char === '}' || char === ']') {
      depth--;
    } else if (char === ',' && depth === target) {
      awaiting = true;
    }
  }
  return lines;
}

/** Our own API output pasted back in carries ids, timestamps and nulls create does not take. */
function withoutServerFields(item: JsonObject): JsonObject {
  const { id: _id, createdBy: _by, createdAt: _at, updatedAt: _updated, ...rest } = item;
  for (const key of ['name', 'explanation', 'language', 'level']) {
    if (rest[key] === null) delete rest[key];
  }
  if (Array.isArray(rest.options)) {
    rest.options = rest.options.map((option) => {
      if (!isObject(option)) return option;
      const { id: _optionId, ...keep } = option;
      return keep;
    });
  }
  return rest;
}

function syntaxErrorLine(text: string, message: string): number | undefined {
  const line = /line (\d+)/.exec(message);
  if (line) return Number(line[1]);
  const position = /position (\d+)/.exec(message);
  return position ? lineAt(text, Number(position[1])) : undefined;
}

export function parseJson(content: string): ParsedBatch {
  const batch = emptyBatch();
  const text = stripBom(content);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    batch.errors.push(
      errorAt({ line: syntaxErrorLine(text, message) }, `not valid JSON: ${message}`),
    );
    return batch;
  }
  const list = Array.isArray(data) ? data : isObject(data) ? data.questions : undefined;
  if (!Array.isArray(list)) {
    batch.errors.push({ message: 'expected { "questions": [ … ] } or an array of questions' });
    return batch;
  }
  const lines = elementLines(text, Array.isArray(data));
  list.forEach((item: unknown, index) => {
    const origin = {
      line: lines[index],
      name: isObject(item) && typeof item.name === 'string' ? item.name : undefined,
      type: isObject(item) && typeof item.type === 'string' ? item.type : undefined,
    };
    if (!isObject(item)) {
      batch.errors.push(errorAt(origin, 'a question must be a JSON object'));
    } else if (origin.type !== undefined && !TYPES.has(origin.type)) {
      batch.errors.push(errorAt(origin, `${origin.type} questions are not supported`));
    } else {
      addCandidate(batch, withoutServerFields(item), origin);
    }
  });
  return batch;
}

/** JSON carries every field and every type, code questions included, so nothing is skipped. */
export function formatJson(questions: ExportableQuestion[]): FormattedBatch {
  return {
    body: `${JSON.stringify({ questions: questions.map(toInput) }, null, 2)}\n`,
    skipped: [],
  };
}
