import type { QuestionAggregates, QuizScoreAggregates } from '../attempts/attempts.statistics.ts';

/**
 * The quiz statistics of Moodle's quiz statistics report, finished from the sums the database
 * computes (see analytics.spec.md for the formulas and where they come from). Pure functions:
 * every statistic that cannot be computed (too few attempts, no spread) is null, never NaN or
 * Infinity.
 */

/**
 * A variance this small next to the scale of its values is rounding noise, not spread: the
 * mean of equal values is not always exactly that value in binary floating point.
 */
const RELATIVE_NOISE = 1e-9;
const noSpread = (variance: number | null, scale: number) =>
  variance === null || variance <= (RELATIVE_NOISE * Math.max(1, Math.abs(scale))) ** 2;
const finite = (value: number) => (Number.isFinite(value) ? value : null);
const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));

/** The counted attempts' percentages: count, mean, median and central sums Σ (T − mean)^k. */
export type ScoreMoments = Pick<
  QuizScoreAggregates,
  'n' | 'mean' | 'median' | 'sum2' | 'sum3' | 'sum4'
>;

export type ScoreStatistics = {
  mean: number | null;
  median: number | null;
  /** Sample standard deviation (n − 1). */
  sd: number | null;
  skewness: number | null;
  kurtosis: number | null;
};

/**
 * Mean, median, sample standard deviation, and Moodle's skewness k3 / k2^(3/2) and kurtosis
 * k4 / k2² (the unbiased cumulant ratios; 0 for a normal distribution).
 */
export function scoreStatistics(moments: ScoreMoments): ScoreStatistics {
  const { n, mean, median } = moments;
  const empty = { mean: null, median: null, sd: null, skewness: null, kurtosis: null };
  if (n === 0 || mean === null) return empty;
  const base = { mean, median, sd: null, skewness: null, kurtosis: null };
  if (n < 2 || moments.sum2 === null) return base;
  // k2 = n·m2/(n − 1) with m2 = Σ/n: the sample variance.
  const k2 = moments.sum2 / (n - 1);
  if (noSpread(k2, mean)) return { ...base, sd: 0 };
  const sd = Math.sqrt(k2);
  let skewness: number | null = null;
  let kurtosis: number | null = null;
  if (n >= 3 && moments.sum3 !== null) {
    const m3 = moments.sum3 / n;
    const k3 = (n * n * m3) / ((n - 1) * (n - 2));
    skewness = finite(k3 / k2 ** 1.5);
  }
  if (n >= 4 && moments.sum4 !== null) {
    const m2 = moments.sum2 / n;
    const m4 = moments.sum4 / n;
    const k4 = (n * n * ((n + 1) * m4 - 3 * (n - 1) * m2 * m2)) / ((n - 1) * (n - 2) * (n - 3));
    kurtosis = finite(k4 / (k2 * k2));
  }
  return { mean, median, sd, skewness, kurtosis };
}

/** One question's marks over the attempts that showed it, as the database aggregates them. */
export type ItemAggregates = Omit<QuestionAggregates, 'questionId' | 'maxMark'>;

export type ItemStatistics = {
  /** 100 × mean mark / max mark. */
  facilityIndex: number | null;
  /** 100 × sample standard deviation of mark / max mark. */
  sd: number | null;
  /** 100 × the correlation of the mark with the rest of the attempt. */
  discriminationIndex: number | null;
  /** 100 × covariance / the largest covariance the same marks could have. */
  discriminativeEfficiency: number | null;
};

export function itemStatistics(item: ItemAggregates): ItemStatistics {
  const { n } = item;
  const facilityIndex = n > 0 && item.meanFraction !== null ? 100 * item.meanFraction : null;
  if (n < 2)
    return { facilityIndex, sd: null, discriminationIndex: null, discriminativeEfficiency: null };
  const sd =
    item.varFraction === null
      ? null
      : noSpread(item.varFraction, 1)
        ? 0
        : 100 * Math.sqrt(item.varFraction);
  // A question everyone scored the same on, or a quiz whose other questions did not vary,
  // cannot discriminate: the statistic is undefined, not 0.
  const flat =
    noSpread(item.varMark, item.meanMark ?? 1) ||
    noSpread(item.varRest, item.meanRest ?? 1) ||
    item.covariance === null;
  if (flat) return { facilityIndex, sd, discriminationIndex: null, discriminativeEfficiency: null };
  const covariance = item.covariance as number;
  const varMark = item.varMark as number;
  const varRest = item.varRest as number;
  const discriminationIndex = finite(
    clamp((100 * covariance) / Math.sqrt(varMark * varRest), -100, 100),
  );
  // By Cauchy–Schwarz no covariance exceeds √(V(x)·V(r)): a maximum far below that is noise.
  const covarianceMax = item.covarianceMax;
  const discriminativeEfficiency =
    covarianceMax === null || covarianceMax <= RELATIVE_NOISE * Math.sqrt(varMark * varRest)
      ? null
      : finite(Math.min(100, (100 * covariance) / covarianceMax));
  return { facilityIndex, sd, discriminationIndex, discriminativeEfficiency };
}

export const HISTOGRAM_BINS = 10;

/**
 * Ten bins of 10 percentage points, [0, 10), [10, 20), …, [90, 100] (the last one holds full
 * marks), from the database's bucket counts (bucket 0–9).
 */
export function histogram(buckets: ReadonlyArray<{ bucket: number; count: number }>) {
  const counts = new Map(buckets.map((row) => [row.bucket, row.count]));
  return Array.from({ length: HISTOGRAM_BINS }, (_, index) => ({
    from: index * 10,
    to: (index + 1) * 10,
    count: counts.get(index) ?? 0,
  }));
}
