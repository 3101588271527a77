/**
 * Pure rules of user analytics: time zones, day streaks, the recent trend and accuracy by tag.
 */

/** Letters, digits, `_`, `+`, `-` in `/`-separated parts: what IANA zone names look like. */
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

/**
 * The canonical IANA name of a time zone (`europe/paris` → `Europe/Paris`, `US/Eastern` →
 * `America/New_York`), or undefined when it is not one. Offsets such as `+01:00` are refused:
 * they have no daylight-saving rules, so they are not where anyone lives.
 */
export function canonicalTimeZone(name: string): string | undefined {
  if (name.length > 64 || !ZONE_NAME.test(name)) return undefined;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** The calendar date (YYYY-MM-DD) of an instant in a time zone. */
export function localDate(at: Date, timeZone: string): string {
  // en-CA formats dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
}

const DAY_MS = 86_400_000;
/** Days since 1970-01-01 of a YYYY-MM-DD date (calendar arithmetic, no time zone involved). */
const dayNumber = (date: string) => Math.round(Date.parse(`${date}T00:00:00Z`) / DAY_MS);

export type Streaks = {
  /** Consecutive active days up to today, or up to yesterday while today is not over. */
  current: number;
  longest: number;
  lastActiveDay: string | null;
  activeDays: number;
};

/** Streaks of consecutive active days, from the distinct local dates the user was active on. */
export function streaks(days: readonly string[], today: string): Streaks {
  const numbers = [...new Set(days.map(dayNumber))].sort((a, b) => a - b);
  if (numbers.length === 0) return { current: 0, longest: 0, lastActiveDay: null, activeDays: 0 };
  let longest = 1;
  let run = 1;
  for (let index = 1; index < numbers.length; index++) {
    run = (numbers[index] as number) - (numbers[index - 1] as number) === 1 ? run + 1 : 1;
    longest = Math.max(longest, run);
  }
  const last = numbers[numbers.length - 1] as number;
  // `run` is the streak ending at the last active day; it is still alive today or yesterday.
  const gap = dayNumber(today) - last;
  const current = gap === 0 || gap === 1 ? run : 0;
  const lastActiveDay = new Date(last * DAY_MS).toISOString().slice(0, 10);
  return { current, longest, lastActiveDay, activeDays: numbers.length };
}

/** Slopes smaller than this (percentage points per attempt) are "steady". */
export const STEADY_SLOPE = 1;

export type Trend = {
  /** Least-squares slope of the percentages over the attempts, in points per attempt. */
  slope: number | null;
  direction: 'improving' | 'declining' | 'steady' | null;
};

/** The direction of results in order (oldest first), by the least-squares line through them. */
export function trend(percentages: readonly number[]): Trend {
  const n = percentages.length;
  if (n < 2) return { slope: null, direction: null };
  const meanX = (n - 1) / 2;
  const meanY = percentages.reduce((sum, value) => sum + value, 0) / n;
  let sxy = 0;
  let sxx = 0;
  percentages.forEach((value, index) => {
    sxy += (index - meanX) * (value - meanY);
    sxx += (index - meanX) ** 2;
  });
  const slope = sxy / sxx;
  const direction =
    Math.abs(slope) < STEADY_SLOPE ? 'steady' : slope > 0 ? 'improving' : 'declining';
  return { slope, direction };
}

/** One question's outcomes over a user's finished attempts. */
export type QuestionRecord = {
  questionId: string;
  /** Finished attempts that showed the question. */
  seen: number;
  correct: number;
  earned: number;
  max: number;
};

export type TagAccuracy = {
  tag: string;
  /** Outcomes of questions with this tag (a question seen in three attempts counts three). */
  questions: number;
  correct: number;
  /** correct / questions. */
  accuracy: number;
  /** 100 × earned / max: partial credit counts. */
  scoreRate: number | null;
};

/** Accuracy by tag; a question with several tags counts for each. Sorted by tag. */
export function accuracyByTag(
  records: readonly QuestionRecord[],
  tagsOf: ReadonlyMap<string, readonly string[]>,
): TagAccuracy[] {
  const byTag = new Map<
    string,
    { questions: number; correct: number; earned: number; max: number }
  >();
  for (const record of records) {
    for (const tag of new Set(tagsOf.get(record.questionId) ?? [])) {
      const entry = byTag.get(tag) ?? { questions: 0, correct: 0, earned: 0, max: 0 };
      entry.questions += record.seen;
      entry.correct += record.correct;
      entry.earned += record.earned;
      entry.max += record.max;
      byTag.set(tag, entry);
    }
  }
  return [...byTag.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([tag, entry]) => ({
      tag,
      questions: entry.questions,
      correct: entry.correct,
      accuracy: entry.questions === 0 ? 0 : entry.correct / entry.questions,
      scoreRate: entry.max > 0 ? (100 * entry.earned) / entry.max : null,
    }));
}
