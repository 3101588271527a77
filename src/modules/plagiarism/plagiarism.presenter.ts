import type { z } from 'zod';
import type { reportView } from './plagiarism.schemas.ts';
import type { PlagiarismReportRow } from './plagiarism.tables.ts';

export type ReportView = z.infer<typeof reportView>;
type User = ReportView['pairs'][number]['aUser'];

/** User ids a report names, for looking their names up once. */
export const usersOf = (row: PlagiarismReportRow | undefined) =>
  (row?.pairs ?? []).flatMap((pair) => [pair.aUserId, pair.bUserId]);

/**
 * The report as staff read it: pairs at or above `minSimilarity`. Only submission ids, names
 * and line ranges of the sources; the sources themselves are a click away in the submissions
 * API, where the usual visibility rules apply.
 */
export function presentReport(input: {
  challengeId: string;
  row: PlagiarismReportRow | undefined;
  names: ReadonlyMap<string, string>;
  minSimilarity: number;
}): ReportView {
  const { row, names } = input;
  if (!row)
    return {
      challengeId: input.challengeId,
      status: 'none',
      requestedAt: null,
      computedAt: null,
      submissionsCompared: 0,
      pairs: [],
    };
  const user = (id: string): User => ({ id, name: names.get(id) ?? null });
  return {
    challengeId: row.challengeId,
    status: row.status,
    requestedAt: row.requestedAt.toISOString(),
    computedAt: row.computedAt?.toISOString() ?? null,
    submissionsCompared: row.submissionsCompared,
    pairs: row.pairs
      .filter((pair) => pair.similarity >= input.minSimilarity)
      .map((pair) => ({
        a: pair.a,
        b: pair.b,
        similarity: pair.similarity,
        // Reports made before the shares were kept tell only the similarity.
        aShare: pair.aShare ?? null,
        bShare: pair.bShare ?? null,
        language: pair.language,
        aUser: user(pair.aUserId),
        bUser: user(pair.bUserId),
        matches: pair.matches.map((match) => ({ aLines: match.aLines, bLines: match.bLines })),
      })),
  };
}
