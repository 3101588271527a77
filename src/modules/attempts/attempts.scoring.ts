import type { QuestionBody, StoredOption } from '../questions/questions.models.ts';

/**
 * Scoring of one answer, as pure functions (the rules are written down in attempts.spec.md).
 * `earned` is in points; `fraction` is earned / max. Code answers are judged elsewhere and
 * come back as `pending`.
 */
export type Answer =
  | string
  | string[]
  | boolean
  | number
  | { language: string; source: string }
  | null
  | undefined;

export type Score =
  | { status: 'scored'; earned: number; max: number; fraction: number; correct: boolean }
  | { status: 'pending'; earned: 0; max: number };

export type ScoringRules = {
  /** Fraction of a question's points lost for a wrong (not blank) answer, 0–1; 0 = no negative marking. */
  negativeMarking?: number;
};

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));
// `|| 0` turns -0 into 0, so a zero score is always the same zero.
const round = (value: number) => Math.round(value * 1e6) / 1e6 || 0;

function scored(fraction: number, points: number, correct: boolean): Score {
  const safe = round(fraction);
  return { status: 'scored', earned: round(safe * points), max: points, fraction: safe, correct };
}

/** Each option's worth when picked: its weight, or ±1/(number of correct options). */
function optionWorth(options: StoredOption[]): Map<string, number> {
  const usesWeights = options.some((option) => option.weight !== undefined);
  const correctCount = options.filter((option) => option.correct === true).length || 1;
  return new Map(
    options.map((option) => [
      option.id,
      usesWeights
        ? (option.weight ?? 0)
        : option.correct === true
          ? 1 / correctCount
          : -1 / correctCount,
    ]),
  );
}

/** Case, surrounding and repeated whitespace folded (case kept when the question says so). */
export function foldAnswer(text: string, caseSensitive: boolean): string {
  const spaced = text.normalize('NFC').trim().replace(/\s+/g, ' ');
  return caseSensitive ? spaced : spaced.toLocaleLowerCase();
}

/**
 * `*` in an accepted answer stands for any run of characters, as in Moodle. Matched greedily
 * piece by piece in linear time: a regular expression here would let a student's answer make
 * the server backtrack for minutes.
 */
export function matchesAccepted(given: string, accepted: string): boolean {
  if (!accepted.includes('*')) return given === accepted;
  const pieces = accepted.split('*');
  const first = pieces[0] ?? '';
  const last = pieces[pieces.length - 1] ?? '';
  if (given.length < first.length + last.length) return false;
  if (!given.startsWith(first) || !given.endsWith(last)) return false;
  // Each middle piece at its earliest place after the previous one: earliest is always best.
  let from = first.length;
  const end = given.length - last.length;
  for (const piece of pieces.slice(1, -1)) {
    const at = given.indexOf(piece, from);
    if (at === -1 || at + piece.length > end) return false;
    from = at + piece.length;
  }
  return true;
}

const isBlank = (answer: Answer) =>
  answer === undefined ||
  answer === null ||
  answer === '' ||
  (Array.isArray(answer) && answer.length === 0);

export function scoreAnswer(
  question: { body: QuestionBody; points: number },
  answer: Answer,
  rules: ScoringRules = {},
): Score {
  const { body, points } = question;
  const penalty = clamp(rules.negativeMarking ?? 0, 0, 1);
  if (isBlank(answer)) return scored(0, points, false);
  if (body.type === 'code') {
    // An empty program is blank too: there is nothing to judge.
    const source = (answer as { source?: unknown }).source;
    if (typeof source !== 'string' || source.trim() === '') return scored(0, points, false);
    return { status: 'pending', earned: 0, max: points };
  }
  const wrong = () => scored(-penalty, points, false);

  switch (body.type) {
    case 'true_false':
      return typeof answer === 'boolean' && answer === body.correct
        ? scored(1, points, true)
        : wrong();
    case 'single_choice': {
      if (typeof answer !== 'string') return wrong();
      const worth = optionWorth(body.options).get(answer);
      if (worth === undefined) return wrong();
      const usesWeights = body.options.some((option) => option.weight !== undefined);
      if (!usesWeights) return worth > 0 ? scored(1, points, true) : wrong();
      return worth > 0 ? scored(clamp(worth, 0, 1), points, worth >= 1) : wrong();
    }
    case 'multiple_choice': {
      if (!Array.isArray(answer)) return wrong();
      const worth = optionWorth(body.options);
      const picked = [...new Set(answer)];
      if (picked.some((id) => !worth.has(id))) return wrong();
      const sum = picked.reduce((total, id) => total + (worth.get(id) ?? 0), 0);
      const fraction = clamp(sum, -penalty, 1);
      return scored(fraction, points, fraction >= 1 - 1e-9);
    }
    case 'short_answer': {
      if (typeof answer !== 'string') return wrong();
      const given = foldAnswer(answer, body.caseSensitive);
      const best = body.accepted
        .filter((accepted) => matchesAccepted(given, foldAnswer(accepted.text, body.caseSensitive)))
        .reduce((max, accepted) => Math.max(max, accepted.weight ?? 1), Number.NEGATIVE_INFINITY);
      if (best === Number.NEGATIVE_INFINITY) return wrong();
      return best > 0 ? scored(clamp(best, 0, 1), points, best >= 1) : wrong();
    }
    case 'numeric': {
      if (typeof answer !== 'number' || !Number.isFinite(answer)) return wrong();
      // A hair of slack for binary floating point: 0.1 + 0.2 is 0.3 within tolerance 0.
      const slack = 1e-9 * Math.max(1, Math.abs(body.correct));
      return Math.abs(answer - body.correct) <= body.tolerance + slack
        ? scored(1, points, true)
        : wrong();
    }
  }
}
