/**
 * Types and the few helpers the three formats share. Pure: no I/O. Must not import
 * questions.service.ts, which imports the formats.
 */
import type { z } from 'zod';
import { answerKeyProblems } from '../questions.models.ts';
import { type QuestionInput, questionInput, type staffQuestion } from '../questions.schemas.ts';

/** A question as staff read it back (what `presentForStaff` returns). */
export type ExportableQuestion = z.infer<typeof staffQuestion>;
export type ImportError = { line?: number; name?: string; type?: string; message: string };
export type ParsedQuestion = { line?: number; name?: string; question: QuestionInput };
export type ParsedBatch = { questions: ParsedQuestion[]; errors: ImportError[] };
export type SkippedQuestion = { id: string; type: string; reason: string };
export type FormattedBatch = { body: string; skipped: SkippedQuestion[] };

/** Where a candidate came from, so an error can point at it. */
export type Origin = {
  line?: number | undefined;
  name?: string | undefined;
  type?: string | undefined;
};

/** The blank a missing-word question shows where its answer block stood. */
export const BLANK = '_____';

export function emptyBatch(): ParsedBatch {
  return { questions: [], errors: [] };
}

export function errorAt(origin: Origin, message: string): ImportError {
  return {
    ...(origin.line !== undefined ? { line: origin.line } : {}),
    ...(origin.name ? { name: origin.name } : {}),
    ...(origin.type ? { type: origin.type } : {}),
    message,
  };
}

function describePath(path: PropertyKey[]): string {
  return path
    .map((key, index) =>
      typeof key === 'number' ? `[${key}]` : `${index === 0 ? '' : '.'}${String(key)}`,
    )
    .join('');
}

/**
 * Validates a candidate exactly as the API would (schema, then answer key) and files it as a
 * question or as an error entry, so nothing a file contains is silently dropped.
 */
export function addCandidate(batch: ParsedBatch, candidate: unknown, origin: Origin): void {
  const parsed = questionInput.safeParse(candidate);
  if (!parsed.success) {
    const message = parsed.error.issues
      .map((issue) =>
        issue.path.length > 0 ? `${describePath(issue.path)}: ${issue.message}` : issue.message,
      )
      .join('; ');
    batch.errors.push(errorAt(origin, message));
    return;
  }
  const problems = answerKeyProblems(parsed.data);
  if (problems.length > 0) {
    batch.errors.push(
      errorAt(origin, problems.map((problem) => `${problem.path}: ${problem.message}`).join('; ')),
    );
    return;
  }
  batch.questions.push({
    ...(origin.line !== undefined ? { line: origin.line } : {}),
    ...(origin.name ? { name: origin.name } : {}),
    question: parsed.data,
  });
}

/** Drops keys whose value is undefined, so candidates compare and serialise cleanly. */
export function compact<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}

export function roundTo(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

/** Moodle keeps fractions to 7 decimals (33.33333% is 0.3333333); so do we, both ways. */
export const weightFromPercent = (percent: number) => roundTo(percent / 100, 7);
export const percentFromWeight = (weight: number) => roundTo(weight * 100, 5);

/** The staff shape back to the input shape: no ids, no nulls, no timestamps. */
export function toInput(question: ExportableQuestion): QuestionInput {
  const common = compact({
    name: question.name || undefined,
    prompt: question.prompt,
    explanation: question.explanation || undefined,
    points: question.points,
    tags: question.tags,
    language: question.language || undefined,
    level: question.level || undefined,
  });
  switch (question.type) {
    case 'single_choice':
    case 'multiple_choice':
      return {
        type: question.type,
        ...common,
        options: (question.options ?? []).map((option) =>
          compact({ text: option.text, correct: option.correct, weight: option.weight }),
        ),
      };
    case 'true_false':
      return { type: 'true_false', ...common, correct: question.correct === true };
    case 'short_answer':
      return {
        type: 'short_answer',
        ...common,
        accepted: (question.accepted ?? []).map((answer) =>
          compact({ text: answer.text, weight: answer.weight }),
        ),
        caseSensitive: question.caseSensitive ?? false,
      };
    case 'numeric':
      return {
        type: 'numeric',
        ...common,
        correct: Number(question.correct),
        tolerance: question.tolerance ?? 0,
      };
    case 'code':
      return { type: 'code', ...common, challengeId: question.challengeId ?? '' };
  }
}

/**
 * What each option is worth when picked. Formats with only percentages need it spelled out:
 * unweighted multiple choice scores 1/n per correct option and −1/n per wrong one (API.md).
 */
export function optionWeights(
  input: Extract<QuestionInput, { type: 'single_choice' | 'multiple_choice' }>,
): number[] {
  if (input.options.some((option) => option.weight !== undefined)) {
    return input.options.map((option) => option.weight ?? 0);
  }
  if (input.type === 'single_choice') {
    return input.options.map((option) => (option.correct ? 1 : 0));
  }
  const correct = input.options.filter((option) => option.correct).length || 1;
  return input.options.map((option) => roundTo((option.correct ? 1 : -1) / correct, 7));
}

/**
 * Assay has no categories; a Moodle category's last segment becomes a tag instead, except the
 * ones Moodle creates by itself ("top", "Default for …"), which would tag everything alike.
 */
export function categoryTag(path: string): string | undefined {
  const last = path
    .split('/')
    .map((segment) => segment.trim())
    .filter(Boolean)
    .at(-1);
  if (!last || last.startsWith('$') || /^(top|default for\b.*)$/i.test(last)) return undefined;
  return last.toLowerCase().slice(0, 50);
}

export function withTag(tags: string[], tag: string | undefined): string[] {
  const all = tag ? [...tags, tag] : tags;
  return [...new Set(all.map((entry) => entry.trim().toLowerCase()).filter(Boolean))];
}

export function stripBom(content: string): string {
  return content.startsWith('\uFEFF') ? content.slice(1) : content;
}
