import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../../platform/clock/clock.ts';
import { createErrorFactory, validationFailed } from '../../platform/errors/errors.ts';
import { decodeCursor, toPage } from '../../platform/http/pagination.ts';
import {
  exportQuestions,
  type ParsedBatch,
  parseQuestions,
  type QuestionFormat,
} from './formats/index.ts';
import {
  answerKeyProblems,
  type Level,
  type QuestionBody,
  type QuestionType,
} from './questions.models.ts';
import type { QuestionFilter, QuestionsRepository } from './questions.repository.ts';
import type { QuestionInput } from './questions.schemas.ts';
import type { QuestionRow } from './questions.tables.ts';

export const questionNotFound = createErrorFactory({
  code: 'QUESTION_NOT_FOUND',
  status: 404,
  title: 'Question not found',
});

export const questionInUse = createErrorFactory({
  code: 'QUESTION_IN_USE',
  status: 409,
  title: 'The question is part of attempts',
});

const cursorSchema = z.object({ createdAt: z.iso.datetime(), id: z.string() });
const EXPORT_LIMIT = 10_000;

/** Splits validated input into the common columns and the type-specific body; options get ids. */
function toColumns(input: QuestionInput, previous?: QuestionBody) {
  const problems = answerKeyProblems(input);
  if (problems.length > 0) {
    throw validationFailed(
      problems.map((problem) => ({ path: `body.${problem.path}`, message: problem.message })),
      'The answer key does not fit the question type.',
    );
  }
  let body: QuestionBody;
  switch (input.type) {
    case 'single_choice':
    case 'multiple_choice': {
      // Keep the id of an option whose text did not change, so a replace does not break answers.
      const previousIds = new Map(
        previous && 'options' in previous
          ? previous.options.map((option) => [option.text, option.id] as const)
          : [],
      );
      body = {
        type: input.type,
        options: input.options.map((option) => ({
          id: previousIds.get(option.text) ?? randomUUID().slice(0, 8),
          text: option.text,
          ...(option.correct !== undefined ? { correct: option.correct } : {}),
          ...(option.weight !== undefined ? { weight: option.weight } : {}),
        })),
      };
      break;
    }
    case 'true_false':
      body = { type: 'true_false', correct: input.correct };
      break;
    case 'short_answer':
      body = {
        type: 'short_answer',
        accepted: input.accepted.map((answer) =>
          typeof answer === 'string' ? { text: answer } : answer,
        ),
        caseSensitive: input.caseSensitive,
      };
      break;
    case 'numeric':
      body = { type: 'numeric', correct: input.correct, tolerance: input.tolerance };
      break;
    case 'code':
      body = { type: 'code', challengeId: input.challengeId };
      break;
  }
  return {
    type: input.type,
    name: input.name ?? null,
    prompt: input.prompt,
    explanation: input.explanation ?? null,
    points: String(input.points),
    tags: [...new Set(input.tags)],
    language: input.language ?? null,
    level: input.level ?? null,
    body,
  };
}

/** Staff see everything, answer keys included. */
export function presentForStaff(row: QuestionRow) {
  const { type: _type, ...body } = row.body as QuestionBody & Record<string, unknown>;
  return {
    id: row.id,
    type: row.type,
    name: row.name,
    prompt: row.prompt,
    explanation: row.explanation,
    points: Number(row.points),
    tags: row.tags,
    language: row.language,
    level: row.level,
    ...body,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Students see the question and the option texts: no key, no weights, no explanation. */
export function presentForStudent(row: QuestionRow) {
  const body = row.body;
  return {
    id: row.id,
    type: row.type,
    prompt: row.prompt,
    ...('options' in body
      ? { options: body.options.map((option) => ({ id: option.id, text: option.text })) }
      : {}),
    points: Number(row.points),
    ...(row.language ? { language: row.language } : {}),
    ...(row.level ? { level: row.level } : {}),
  };
}

export function createQuestionsService(deps: {
  repository: QuestionsRepository;
  clock: Clock;
  /** Told after a question changes, so caches of question content can drop it. */
  onChange?: (id: string) => void;
  /** Whether an attempt shows this question: then its content must not change under it. */
  inUse?: (id: string) => Promise<boolean>;
  /** Which of these challenge ids are live (the challenges module): code questions need one. */
  liveChallenges?: (ids: readonly string[]) => Promise<Set<string>>;
}) {
  /** A code question must name a live challenge, or every attempt would score it 0. */
  const checkChallenge = async (input: QuestionInput) => {
    if (input.type !== 'code' || !deps.liveChallenges) return;
    if (!(await deps.liveChallenges([input.challengeId])).has(input.challengeId))
      throw validationFailed([
        { path: 'body.challengeId', message: 'no such challenge (create it first)' },
      ]);
  };

  const filterOf = (input: {
    type?: QuestionType;
    tags?: string[];
    language?: string;
    level?: Level;
    q?: string;
  }) => {
    const filter: QuestionFilter = {};
    if (input.type) filter.type = input.type;
    if (input.tags?.length) filter.tags = input.tags;
    if (input.language) filter.language = input.language;
    if (input.level) filter.level = input.level;
    if (input.q) filter.q = input.q;
    return filter;
  };

  return {
    async create(input: QuestionInput, authorId: string) {
      await checkChallenge(input);
      const at = deps.clock.now();
      const row = await deps.repository.insert({
        id: randomUUID(),
        ...toColumns(input),
        createdBy: authorId,
        createdAt: at,
        updatedAt: at,
      });
      return presentForStaff(row);
    },

    async get(id: string) {
      const row = await deps.repository.findLive(id);
      if (!row) throw questionNotFound();
      return presentForStaff(row);
    },

    async replace(id: string, input: QuestionInput) {
      const current = await deps.repository.findLive(id);
      if (!current) throw questionNotFound();
      await checkChallenge(input);
      if (await deps.inUse?.(id))
        throw questionInUse(
          'Attempts show this question as it is; create a new question (GET it, then POST the copy) and use that.',
        );
      const row = await deps.repository.replace(id, {
        ...toColumns(input, current.body),
        updatedAt: deps.clock.now(),
      });
      if (!row) throw questionNotFound();
      deps.onChange?.(id);
      return presentForStaff(row);
    },

    async remove(id: string) {
      if (!(await deps.repository.softDelete(id, deps.clock.now()))) throw questionNotFound();
      deps.onChange?.(id);
    },

    async list(input: {
      type?: QuestionType;
      tags?: string[];
      language?: string;
      level?: Level;
      q?: string;
      limit: number;
      cursor?: string;
    }) {
      const after = decodeCursor(input.cursor, cursorSchema);
      const rows = await deps.repository.list(filterOf(input), {
        limit: input.limit + 1,
        ...(after ? { after: { createdAt: new Date(after.createdAt), id: after.id } } : {}),
      });
      return toPage(rows, input.limit, presentForStaff, (row) => ({
        createdAt: row.createdAt.toISOString(),
        id: row.id,
      }));
    },

    /** The ids among these that are not live questions (for other modules that reference them). */
    async missing(ids: string[]): Promise<string[]> {
      const live = await deps.repository.liveIds([...new Set(ids)]);
      return ids.filter((id) => !live.has(id));
    },

    /** Stores every question of the document that is sound; the others come back as errors. */
    async importDocument(format: QuestionFormat, content: string, authorId: string) {
      const parsed: ParsedBatch = parseQuestions(format, content);
      const named = parsed.questions.flatMap(({ question }) =>
        question.type === 'code' ? [question.challengeId] : [],
      );
      const live =
        named.length > 0 && deps.liveChallenges ? await deps.liveChallenges(named) : undefined;
      const batch: ParsedBatch = live
        ? {
            questions: parsed.questions.filter(
              ({ question }) => question.type !== 'code' || live.has(question.challengeId),
            ),
            errors: [
              ...parsed.errors,
              ...parsed.questions
                .filter(
                  ({ question }) => question.type === 'code' && !live.has(question.challengeId),
                )
                .map(({ line, name }) => ({
                  ...(line !== undefined ? { line } : {}),
                  ...(name ? { name } : {}),
                  type: 'code',
                  message: 'no such challenge (create it first)',
                })),
            ],
          }
        : parsed;
      const at = deps.clock.now();
      // Created one millisecond apart so the bank lists them in the document's order.
      const rows = await deps.repository.insertMany(
        batch.questions.map((parsed, index) => ({
          id: randomUUID(),
          ...toColumns(parsed.question),
          createdBy: authorId,
          createdAt: new Date(at.getTime() + index),
          updatedAt: at,
        })),
      );
      return { imported: rows.length, ids: rows.map((row) => row.id), errors: batch.errors };
    },

    /** The bank (or the part matching the filter) in one format, oldest first. */
    async exportDocument(
      format: QuestionFormat,
      input: { type?: QuestionType; tags?: string[]; language?: string; level?: Level; q?: string },
    ) {
      const rows = await deps.repository.matching(filterOf(input), EXPORT_LIMIT);
      return exportQuestions(format, rows.map(presentForStaff));
    },

    /** Rows for other modules that hold question ids (attempts score and show them). */
    async rowsByIds(ids: string[]): Promise<QuestionRow[]> {
      return deps.repository.byIds([...new Set(ids)]);
    },

    /** Every live question a pool draws from (capped: a pool larger than this draws from its first part). */
    async poolRows(input: { tags?: string[]; language?: string; level?: Level }) {
      return deps.repository.matching(filterOf(input), 5_000);
    },

    /** How many live questions a pool would draw from. */
    async countMatching(input: {
      tags?: string[];
      language?: string;
      level?: Level;
    }): Promise<number> {
      return deps.repository.count(filterOf(input));
    },

    /** A practice set for anyone: distinct questions, random order, no keys. */
    async random(input: { tags?: string[]; language?: string; level?: Level; count: number }) {
      const rows = await deps.repository.random(filterOf(input), input.count);
      return { items: rows.map(presentForStudent) };
    },
  };
}

export type QuestionsService = ReturnType<typeof createQuestionsService>;
