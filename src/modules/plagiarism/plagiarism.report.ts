import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  commonFingerprints,
  compare,
  type Fingerprinted,
  fingerprint,
  type Match,
} from './plagiarism.similarity.ts';

/**
 * Pairs at or above this similarity are kept in the report. Independent solutions of the same
 * exercise measured 0 to 0.15 (they share the input idiom at most); renamed and reformatted
 * copies 0.8 to 1. 0.3 leaves room for copies that were partly rewritten.
 */
export const REPORT_THRESHOLD = 0.3;
/** The most similar pairs kept; beyond that a class has a problem no list will show better. */
export const MAX_PAIRS = 1_000;
/** Comparisons between two looks at the event loop, so lease heartbeats keep running. */
const COMPARISONS_PER_TURN = 200;

export type ComparedSubmission = {
  submissionId: string;
  userId: string;
  language: string;
  source: string;
  createdAt: Date;
};

export type ReportPair = {
  /** The earlier submission of the two. */
  a: string;
  b: string;
  aUserId: string;
  bUserId: string;
  language: string;
  similarity: number;
  /** Shares of `a`'s and `b`'s own code found in the other; absent in reports made before. */
  aShare?: number;
  bShare?: number;
  matches: Match[];
};

const round = (value: number) => Math.round(value * 1000) / 1000;

/**
 * Compares every two submissions of the same language by different users and returns the
 * pairs at or above `threshold`, most similar first. Pure but for the pauses it takes between
 * comparisons; `signal` stops it (a lost lease, a shutdown).
 */
export async function buildReport(input: {
  submissions: readonly ComparedSubmission[];
  threshold?: number;
  maxPairs?: number;
  signal?: AbortSignal;
}): Promise<ReportPair[]> {
  const threshold = input.threshold ?? REPORT_THRESHOLD;
  const byLanguage = new Map<string, ComparedSubmission[]>();
  for (const submission of input.submissions) {
    const group = byLanguage.get(submission.language) ?? [];
    group.push(submission);
    byLanguage.set(submission.language, group);
  }
  const pairs: ReportPair[] = [];
  let comparisons = 0;
  for (const [language, group] of byLanguage) {
    group.sort(
      (x, y) =>
        x.createdAt.getTime() - y.createdAt.getTime() ||
        x.submissionId.localeCompare(y.submissionId),
    );
    const documents: Fingerprinted[] = group.map((submission) =>
      fingerprint(submission.source, language),
    );
    const ignore = commonFingerprints(documents);
    for (let i = 0; i < group.length; i++)
      for (let j = i + 1; j < group.length; j++) {
        if (++comparisons % COMPARISONS_PER_TURN === 0) {
          await nextTurn();
          input.signal?.throwIfAborted();
        }
        const first = group[i]!;
        const second = group[j]!;
        if (first.userId === second.userId) continue;
        const scored = compare(documents[i]!, documents[j]!, { ignore, withMatches: false });
        if (scored.similarity < threshold) continue;
        const { similarity, aShare, bShare, matches } = compare(documents[i]!, documents[j]!, {
          ignore,
        });
        pairs.push({
          a: first.submissionId,
          b: second.submissionId,
          aUserId: first.userId,
          bUserId: second.userId,
          language,
          similarity: round(similarity),
          aShare: round(aShare),
          bShare: round(bShare),
          matches,
        });
      }
  }
  pairs.sort(
    (x, y) => y.similarity - x.similarity || x.a.localeCompare(y.a) || x.b.localeCompare(y.b),
  );
  return pairs.slice(0, input.maxPairs ?? MAX_PAIRS);
}
