import type { QuizReport } from './analytics.schemas.ts';

/**
 * The quiz report as CSV (RFC 4180: CRLF lines, fields quoted when they hold a comma, quote or
 * line break, quotes doubled) in four blocks a spreadsheet reads top to bottom: the quiz
 * summary, one row per question, one row per option, the score histogram.
 */

type Cell = string | number | boolean | null | undefined;

/**
 * One field. Text that a spreadsheet would run as a formula (starting with =, +, -, @, tab or
 * carriage return) gets a leading apostrophe: question prompts are written by people.
 */
export function csvCell(value: Cell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(round(value)) : '';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Four decimals: enough for any statistic here, and no 66.66666666666667 in a spreadsheet. */
const round = (value: number) => Math.round(value * 10_000) / 10_000;

export const csvRow = (cells: readonly Cell[]) => cells.map(csvCell).join(',');

const percent = (fraction: number | null) => (fraction === null ? null : 100 * fraction);

export function quizReportCsv(report: QuizReport): string {
  const lines: string[] = [
    csvRow(['Quiz report']),
    csvRow(['Quiz', report.title]),
    csvRow(['Quiz id', report.quizId]),
    csvRow(['Attempts counted', report.attemptsCounted]),
    csvRow(['Participants', report.participants]),
    csvRow(['Attempts started', report.attempts.started]),
    csvRow(['Attempts finished', report.attempts.finished]),
    csvRow(['Attempts in the statistics', report.attempts.counted]),
    csvRow(['Completion rate (%)', percent(report.completionRate)]),
    csvRow(['Average time (s)', report.averageSeconds]),
    csvRow(['Mean (%)', report.score.mean]),
    csvRow(['Median (%)', report.score.median]),
    csvRow(['Standard deviation (%)', report.score.sd]),
    csvRow(['Skewness', report.score.skewness]),
    csvRow(['Kurtosis', report.score.kurtosis]),
    csvRow(['Lowest (%)', report.score.min]),
    csvRow(['Highest (%)', report.score.max]),
    '',
    csvRow([
      'Position',
      'Question id',
      'Name',
      'Type',
      'Tags',
      'Max mark',
      'Attempts',
      'Answered',
      'Facility index (%)',
      'Standard deviation (%)',
      'Discrimination index (%)',
      'Discriminative efficiency (%)',
      'Prompt',
    ]),
    ...report.questions.map((question) =>
      csvRow([
        question.position,
        question.questionId,
        question.name,
        question.type,
        question.tags.join('; '),
        question.maxMark,
        question.attempts,
        question.answered,
        question.facilityIndex,
        question.sd,
        question.discriminationIndex,
        question.discriminativeEfficiency,
        question.prompt,
      ]),
    ),
    '',
    csvRow(['Question id', 'Option id', 'Option', 'Correct', 'Picks', 'Pick rate (%)']),
    ...report.questions.flatMap((question) =>
      (question.options ?? []).map((option) =>
        csvRow([
          question.questionId,
          option.id,
          option.text,
          option.correct,
          option.picks,
          percent(option.rate),
        ]),
      ),
    ),
    '',
    csvRow(['Score from (%)', 'Score to (%)', 'Attempts']),
    ...report.histogram.map((bin) => csvRow([bin.from, bin.to, bin.count])),
  ];
  return `${lines.join('\r\n')}\r\n`;
}
