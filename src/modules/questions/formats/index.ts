/** Question import/export by format name. Pure: the caller stores and sends. */
import type {
  ExportableQuestion,
  FormattedBatch,
  ParsedBatch,
  SkippedQuestion,
} from './formats.types.ts';
import { formatGift, parseGift } from './gift.ts';
import { formatJson, parseJson } from './json.ts';
import { formatMoodleXml, parseMoodleXml } from './moodle-xml.ts';

export type {
  ExportableQuestion,
  ImportError,
  ParsedBatch,
  ParsedQuestion,
  SkippedQuestion,
} from './formats.types.ts';

export const QUESTION_FORMATS = ['gift', 'moodle-xml', 'json'] as const;
export type QuestionFormat = (typeof QUESTION_FORMATS)[number];

export type ExportedQuestions = {
  contentType: string;
  /** Without the dot. GIFT is `txt` because Moodle's GIFT import only offers .txt files. */
  extension: string;
  body: string;
  /** Questions the format cannot express (code questions in GIFT and Moodle XML). */
  skipped: SkippedQuestion[];
};

const FORMATS: Record<
  QuestionFormat,
  {
    parse: (content: string) => ParsedBatch;
    format: (questions: ExportableQuestion[]) => FormattedBatch;
    contentType: string;
    extension: string;
  }
> = {
  gift: {
    parse: parseGift,
    format: formatGift,
    contentType: 'text/plain; charset=utf-8',
    extension: 'txt',
  },
  'moodle-xml': {
    parse: parseMoodleXml,
    format: formatMoodleXml,
    contentType: 'application/xml; charset=utf-8',
    extension: 'xml',
  },
  json: {
    parse: parseJson,
    format: formatJson,
    contentType: 'application/json; charset=utf-8',
    extension: 'json',
  },
};

export function parseQuestions(format: QuestionFormat, content: string): ParsedBatch {
  return FORMATS[format].parse(content);
}

export function exportQuestions(
  format: QuestionFormat,
  questions: ExportableQuestion[],
): ExportedQuestions {
  const { format: write, contentType, extension } = FORMATS[format];
  return { contentType, extension, ...write(questions) };
}
