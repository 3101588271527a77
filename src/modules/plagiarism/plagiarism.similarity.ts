import { type Token, tokenize } from './plagiarism.tokens.ts';

/**
 * Similarity of two programs, MOSS style (Schleimer, Wilkerson and Aiken, "Winnowing: local
 * algorithms for document fingerprinting", SIGMOD 2003), on normalised tokens
 * (plagiarism.tokens.ts) rather than characters:
 *
 * 1. every run of K consecutive tokens (a k-gram) is hashed;
 * 2. winnowing keeps, of every WINDOW consecutive k-gram hashes, the smallest (the rightmost
 *    one on ties): a copied run of at least K + WINDOW - 1 tokens is always caught, wherever it
 *    moved to, and a program keeps roughly 2 / (WINDOW + 1) of its hashes as fingerprints;
 * 3. similarity = shared fingerprints / the fingerprints of the program that has fewer: the
 *    share of the smaller program found in the other. Unlike Jaccard it does not fall when the
 *    copier pads the copy with code of their own. 1 for identical programs, 0 when nothing is
 *    shared or either program is shorter than K tokens (too short to say anything about).
 *
 * The matching regions come from the shared fingerprints: each is grown token by token into
 * the longest run both programs share, the longest runs are kept first without reusing tokens,
 * and the result is told as line ranges, merged where they touch in both programs.
 */

/** Tokens per k-gram: shorter runs are what independent solutions share by chance. */
export const K = 12;
/** Winnowing window: any shared run of K + WINDOW - 1 = 17 tokens or more is found. */
export const WINDOW = 6;
/** Seeds taken per fingerprint and program: a line repeated a thousand times must not cost a million seeds. */
const MAX_SEEDS_PER_FINGERPRINT = 8;
/** Regions reported per pair; a teacher reads the first few. */
export const MAX_MATCHES = 50;

export type LineRange = [first: number, last: number];
export type Match = { aLines: LineRange; bLines: LineRange };
export type Comparison = {
  similarity: number;
  /** Shares of `a`'s and of `b`'s own fingerprints found in the other (MOSS shows both). */
  aShare: number;
  bShare: number;
  matches: Match[];
};

export type Fingerprinted = {
  tokens: readonly Token[];
  /** Selected k-gram hash → the k-gram positions (token offsets) it was selected at. */
  fingerprints: ReadonlyMap<number, readonly number[]>;
};

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function tokenHash(text: string): number {
  let hash = FNV_OFFSET;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, FNV_PRIME);
  }
  return hash >>> 0;
}

/**
 * Each k-gram's hash: two independent 32-bit polynomials folded into 53 bits, so that programs
 * with thousands of fingerprints practically never share one by collision.
 */
function kgramHashes(tokens: readonly Token[]): number[] {
  const ids = tokens.map((token) => tokenHash(token.text));
  const hashes: number[] = [];
  for (let start = 0; start + K <= ids.length; start++) {
    let high = 0;
    let low = 0;
    for (let offset = 0; offset < K; offset++) {
      const id = ids[start + offset]!;
      high = (Math.imul(high, 31) + id) | 0;
      low = (Math.imul(low, 1_000_003) ^ Math.imul(id, 0x9e3779b1)) | 0;
    }
    hashes.push((high >>> 0) * 2 ** 21 + ((low >>> 0) >>> 11));
  }
  return hashes;
}

/** Robust winnowing: the minimum of each window, recorded once per position it lands on. */
function winnow(hashes: readonly number[]): Map<number, number[]> {
  const selected = new Map<number, number[]>();
  const record = (position: number) => {
    const hash = hashes[position]!;
    const positions = selected.get(hash);
    if (positions) positions.push(position);
    else selected.set(hash, [position]);
  };
  if (hashes.length === 0) return selected;
  const width = Math.min(WINDOW, hashes.length);
  let last = -1;
  for (let start = 0; start + width <= hashes.length; start++) {
    let minimum = start;
    for (let index = start + 1; index < start + width; index++)
      if (hashes[index]! <= hashes[minimum]!) minimum = index;
    if (minimum !== last) {
      record(minimum);
      last = minimum;
    }
  }
  return selected;
}

export function fingerprint(source: string, language: string): Fingerprinted {
  const tokens = tokenize(source, language);
  return { tokens, fingerprints: winnow(kgramHashes(tokens)) };
}

/**
 * Fingerprints so common among a language's programs that they say nothing about copying:
 * starter code, the statement's input handling, idioms everyone writes. With fewer than
 * `minDocuments` programs nothing counts as common (a small class's copies would vanish).
 */
export function commonFingerprints(
  documents: readonly Fingerprinted[],
  options: { minDocuments?: number; share?: number } = {},
): Set<number> {
  const minDocuments = options.minDocuments ?? 10;
  const share = options.share ?? 0.5;
  const common = new Set<number>();
  if (documents.length < minDocuments) return common;
  const seen = new Map<number, number>();
  for (const document of documents)
    for (const hash of document.fingerprints.keys()) seen.set(hash, (seen.get(hash) ?? 0) + 1);
  for (const [hash, count] of seen) if (count > documents.length * share) common.add(hash);
  return common;
}

const sizeOf = (document: Fingerprinted, ignore: ReadonlySet<number>) => {
  let size = 0;
  for (const hash of document.fingerprints.keys()) if (!ignore.has(hash)) size += 1;
  return size;
};

type Run = { a: number; b: number; length: number };

/** The longest run of equal tokens through a seed, as far as it goes both ways. */
function grow(a: readonly Token[], b: readonly Token[], seedA: number, seedB: number): Run {
  let start = 0;
  while (
    seedA - start - 1 >= 0 &&
    seedB - start - 1 >= 0 &&
    a[seedA - start - 1]!.text === b[seedB - start - 1]!.text
  )
    start += 1;
  let end = 0;
  while (
    seedA + end < a.length &&
    seedB + end < b.length &&
    a[seedA + end]!.text === b[seedB + end]!.text
  )
    end += 1;
  return { a: seedA - start, b: seedB - start, length: start + end };
}

const touches = (x: LineRange, y: LineRange) => y[0] <= x[1] + 1 && x[0] <= y[1] + 1;
const union = (x: LineRange, y: LineRange): LineRange => [
  Math.min(x[0], y[0]),
  Math.max(x[1], y[1]),
];

/** Regions that touch (overlap or sit on adjacent lines) in both programs become one. */
export function mergeMatches(matches: readonly Match[]): Match[] {
  let merged = [...matches];
  let changed = true;
  while (changed) {
    changed = false;
    merged.sort((x, y) => x.aLines[0] - y.aLines[0] || x.bLines[0] - y.bLines[0]);
    const next: Match[] = [];
    for (const match of merged) {
      const previous = next.at(-1);
      if (
        previous &&
        touches(previous.aLines, match.aLines) &&
        touches(previous.bLines, match.bLines)
      ) {
        next[next.length - 1] = {
          aLines: union(previous.aLines, match.aLines),
          bLines: union(previous.bLines, match.bLines),
        };
        changed = true;
      } else next.push(match);
    }
    merged = next;
  }
  return merged;
}

function matchingRegions(a: Fingerprinted, b: Fingerprinted, shared: readonly number[]): Match[] {
  const runs: Run[] = [];
  const seenDiagonals = new Map<number, Run[]>();
  for (const hash of shared) {
    const inA = a.fingerprints.get(hash)!.slice(0, MAX_SEEDS_PER_FINGERPRINT);
    const inB = b.fingerprints.get(hash)!.slice(0, MAX_SEEDS_PER_FINGERPRINT);
    for (const seedA of inA)
      for (const seedB of inB) {
        const diagonal = seedA - seedB;
        const known = seenDiagonals.get(diagonal) ?? [];
        if (known.some((run) => seedA >= run.a && seedA < run.a + run.length)) continue;
        const run = grow(a.tokens, b.tokens, seedA, seedB);
        // A hash collision grows into nothing worth a region.
        if (run.length < K) continue;
        known.push(run);
        seenDiagonals.set(diagonal, known);
        runs.push(run);
      }
  }
  // Greedy tiling: the longest runs first, each token of either program used at most once.
  runs.sort((x, y) => y.length - x.length || x.a - y.a);
  const usedA = new Uint8Array(a.tokens.length);
  const usedB = new Uint8Array(b.tokens.length);
  const kept: Match[] = [];
  for (const run of runs) {
    let free = true;
    for (let offset = 0; offset < run.length && free; offset++)
      free = usedA[run.a + offset] === 0 && usedB[run.b + offset] === 0;
    if (!free) continue;
    usedA.fill(1, run.a, run.a + run.length);
    usedB.fill(1, run.b, run.b + run.length);
    const last = run.length - 1;
    kept.push({
      aLines: [a.tokens[run.a]!.line, a.tokens[run.a + last]!.line],
      bLines: [b.tokens[run.b]!.line, b.tokens[run.b + last]!.line],
    });
  }
  return mergeMatches(kept).slice(0, MAX_MATCHES);
}

/** How alike two programs are, and where; `ignore` holds fingerprints not to count (common code). */
export function compare(
  a: Fingerprinted,
  b: Fingerprinted,
  options: { ignore?: ReadonlySet<number>; withMatches?: boolean } = {},
): Comparison {
  const ignore = options.ignore ?? new Set<number>();
  const aSize = sizeOf(a, ignore);
  const bSize = sizeOf(b, ignore);
  if (aSize === 0 || bSize === 0) return { similarity: 0, aShare: 0, bShare: 0, matches: [] };
  const shared: number[] = [];
  for (const hash of a.fingerprints.keys())
    if (!ignore.has(hash) && b.fingerprints.has(hash)) shared.push(hash);
  const aShare = Math.min(1, shared.length / aSize);
  const bShare = Math.min(1, shared.length / bSize);
  const matches =
    options.withMatches === false || shared.length === 0 ? [] : matchingRegions(a, b, shared);
  return { similarity: Math.max(aShare, bShare), aShare, bShare, matches };
}
