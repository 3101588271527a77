/**
 * Question types and their answer keys. Pure data and rules; no I/O. Scoring lives with attempts.
 */
export const QUESTION_TYPES = [
  'single_choice',
  'multiple_choice',
  'true_false',
  'short_answer',
  'numeric',
  'code',
] as const;
export type QuestionType = (typeof QUESTION_TYPES)[number];
export const LEVELS = ['beginner', 'intermediate', 'advanced'] as const;
export type Level = (typeof LEVELS)[number];

/** An option as stored: `correct` and `weight` are answer keys. */
export type StoredOption = { id: string; text: string; correct?: boolean; weight?: number };
export type AcceptedAnswer = { text: string; weight?: number };

export type QuestionBody =
  | { type: 'single_choice'; options: StoredOption[] }
  | { type: 'multiple_choice'; options: StoredOption[] }
  | { type: 'true_false'; correct: boolean }
  | { type: 'short_answer'; accepted: AcceptedAnswer[]; caseSensitive: boolean }
  | { type: 'numeric'; correct: number; tolerance: number }
  | { type: 'code'; challengeId: string };

export type OptionInput = {
  text: string;
  correct?: boolean | undefined;
  weight?: number | undefined;
};

/** Problems with a question's answer key, as `{ path, message }` (empty when it is sound). */
export function answerKeyProblems(
  input:
    | { type: 'single_choice' | 'multiple_choice'; options: OptionInput[] }
    | { type: 'short_answer'; accepted: Array<string | AcceptedAnswer> }
    | { type: 'true_false' | 'numeric' | 'code' },
): Array<{ path: string; message: string }> {
  const problems: Array<{ path: string; message: string }> = [];
  if (input.type === 'single_choice' || input.type === 'multiple_choice') {
    const texts = input.options.map((option) => option.text.trim().toLowerCase());
    texts.forEach((text, index) => {
      if (texts.indexOf(text) !== index)
        problems.push({ path: `options[${index}].text`, message: 'repeats another option' });
    });
    input.options.forEach((option, index) => {
      if (option.correct !== undefined && option.weight !== undefined) {
        problems.push({
          path: `options[${index}]`,
          message: 'give either correct or weight, not both',
        });
      }
    });
    const usesWeights = input.options.some((option) => option.weight !== undefined);
    const full = input.options.filter((option) =>
      usesWeights ? option.weight === 1 : option.correct === true,
    );
    const credited = input.options.filter((option) =>
      usesWeights ? (option.weight ?? 0) > 0 : option.correct === true,
    );
    if (input.type === 'single_choice' && full.length !== 1) {
      problems.push({
        path: 'options',
        message: usesWeights
          ? 'exactly one option must have weight 1'
          : 'exactly one option must be correct',
      });
    }
    if (input.type === 'multiple_choice' && credited.length === 0) {
      problems.push({
        path: 'options',
        message: 'at least one option must be correct (or have a positive weight)',
      });
    }
  }
  if (input.type === 'short_answer') {
    const weights = input.accepted.map((answer) =>
      typeof answer === 'string' ? 1 : (answer.weight ?? 1),
    );
    if (!weights.some((weight) => weight === 1)) {
      problems.push({
        path: 'accepted',
        message: 'at least one accepted answer must be worth full marks (weight 1)',
      });
    }
  }
  return problems;
}
