import { describe, expect, it } from 'vitest';
import {
  histogram,
  type ItemAggregates,
  itemStatistics,
  type ScoreMoments,
  scoreStatistics,
} from './analytics.stats.ts';

/**
 * A fixed dataset: six attempts at three questions (the third worth 2 marks). The expected
 * values were computed with numpy/scipy (`scipy.stats.skew(bias=False)`,
 * `scipy.stats.kurtosis(bias=False)`, `numpy.corrcoef`, and the covariance maximum by trying
 * every pairing of marks with rests), not with the code under test.
 */
const MAX = [1, 1, 2];
const MARKS = [
  [1, 1, 2],
  [1, 0, 1],
  [0, 1, 0],
  [1, 1, 2],
  [0, 0, 1],
  [1, 0, 0.5],
];
const EXPECTED_SCORES = {
  mean: 56.25,
  median: 43.75,
  sd: 35.13367330638799,
  skewness: 0.689050090162136,
  kurtosis: -1.950008011536612,
};
const EXPECTED_ITEMS = [
  {
    facilityIndex: 66.66666666666666,
    sd: 51.63977794943223,
    discriminationIndex: 40.549911245444456,
    discriminativeEfficiency: 70,
  },
  {
    facilityIndex: 50,
    sd: 54.77225575051661,
    discriminationIndex: 23.354968324845686,
    discriminativeEfficiency: 27.272727272727273,
  },
  {
    facilityIndex: 54.166666666666664,
    sd: 40.05204946899305,
    discriminationIndex: 63.57084917461992,
    discriminativeEfficiency: 65.71428571428571,
  },
];

// A naive two-pass implementation, standing in for the database's aggregates.
const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
const mean = (values: number[]) => sum(values) / values.length;
const centralSum = (values: number[], power: number) => {
  const average = mean(values);
  return sum(values.map((value) => (value - average) ** power));
};
const covariance = (xs: number[], ys: number[]) => {
  const mx = mean(xs);
  const my = mean(ys);
  return sum(xs.map((x, index) => (x - mx) * ((ys[index] as number) - my))) / (xs.length - 1);
};
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

function momentsOf(values: number[]): ScoreMoments {
  if (values.length === 0)
    return { n: 0, mean: null, median: null, sum2: null, sum3: null, sum4: null };
  return {
    n: values.length,
    mean: mean(values),
    median: median(values),
    sum2: centralSum(values, 2),
    sum3: centralSum(values, 3),
    sum4: centralSum(values, 4),
  };
}

/** Every ordering of `values` (for the brute-force covariance maximum). */
function* permutations(values: number[]): Generator<number[]> {
  if (values.length <= 1) {
    yield values;
    return;
  }
  for (const [index, value] of values.entries()) {
    const rest = [...values.slice(0, index), ...values.slice(index + 1)];
    for (const tail of permutations(rest)) yield [value, ...tail];
  }
}

function aggregatesOf(marks: number[], rests: number[], max: number): ItemAggregates {
  const n = marks.length;
  const fractions = marks.map((mark) => mark / max);
  const sortedMarks = [...marks].sort((a, b) => a - b);
  const sortedRests = [...rests].sort((a, b) => a - b);
  return {
    n,
    meanFraction: n > 0 ? mean(fractions) : null,
    varFraction: n > 1 ? covariance(fractions, fractions) : null,
    meanMark: n > 0 ? mean(marks) : null,
    meanRest: n > 0 ? mean(rests) : null,
    varMark: n > 1 ? covariance(marks, marks) : null,
    varRest: n > 1 ? covariance(rests, rests) : null,
    covariance: n > 1 ? covariance(marks, rests) : null,
    covarianceMax: n > 1 ? covariance(sortedMarks, sortedRests) : null,
  };
}

const totals = MARKS.map((row) => sum(row));
const percentages = totals.map((total) => (100 * total) / sum(MAX));
const column = (index: number) => MARKS.map((row) => row[index] as number);
const restOf = (index: number) => MARKS.map((row) => sum(row) - (row[index] as number));

describe('quiz-level statistics', () => {
  it('match scipy on the fixed dataset', () => {
    const stats = scoreStatistics(momentsOf(percentages));
    expect(stats.mean).toBeCloseTo(EXPECTED_SCORES.mean, 10);
    expect(stats.median).toBeCloseTo(EXPECTED_SCORES.median, 10);
    expect(stats.sd).toBeCloseTo(EXPECTED_SCORES.sd, 10);
    expect(stats.skewness).toBeCloseTo(EXPECTED_SCORES.skewness, 10);
    expect(stats.kurtosis).toBeCloseTo(EXPECTED_SCORES.kurtosis, 10);
  });

  it('agree with the textbook forms G1 = √(n(n−1))/(n−2)·g1 and G2 from g2', () => {
    const values = [3, 7, 7, 19, 24, 2.5, 11, 40];
    const n = values.length;
    const m2 = centralSum(values, 2) / n;
    const g1 = centralSum(values, 3) / n / m2 ** 1.5;
    const g2 = centralSum(values, 4) / n / m2 ** 2 - 3;
    const stats = scoreStatistics(momentsOf(values));
    expect(stats.skewness).toBeCloseTo((Math.sqrt(n * (n - 1)) / (n - 2)) * g1, 10);
    expect(stats.kurtosis).toBeCloseTo(((n - 1) / ((n - 2) * (n - 3))) * ((n + 1) * g2 + 6), 10);
    expect(stats.sd).toBeCloseTo(Math.sqrt(centralSum(values, 2) / (n - 1)), 10);
  });

  it('leave out what too few attempts cannot give', () => {
    expect(scoreStatistics(momentsOf([]))).toEqual({
      mean: null,
      median: null,
      sd: null,
      skewness: null,
      kurtosis: null,
    });
    expect(scoreStatistics(momentsOf([70]))).toEqual({
      mean: 70,
      median: 70,
      sd: null,
      skewness: null,
      kurtosis: null,
    });
    const two = scoreStatistics(momentsOf([40, 60]));
    expect(two.sd).toBeCloseTo(Math.SQRT2 * 10, 10);
    expect(two.skewness).toBeNull();
    expect(two.kurtosis).toBeNull();
    const three = scoreStatistics(momentsOf([40, 60, 90]));
    expect(three.skewness).not.toBeNull();
    expect(three.kurtosis).toBeNull();
  });

  it('give sd 0 and no shape statistics when everyone scored the same (no 0/0)', () => {
    // 1/3 is not exact in binary: the mean of equal values leaves rounding noise behind.
    const stats = scoreStatistics(momentsOf(Array.from({ length: 7 }, () => 100 / 3)));
    expect(stats).toEqual({
      mean: expect.closeTo(100 / 3, 10),
      median: expect.closeTo(100 / 3, 10),
      sd: 0,
      skewness: null,
      kurtosis: null,
    });
  });
});

describe('question statistics', () => {
  it('match numpy on the fixed dataset', () => {
    for (const [index, expected] of EXPECTED_ITEMS.entries()) {
      const stats = itemStatistics(
        aggregatesOf(column(index), restOf(index), MAX[index] as number),
      );
      expect(stats.facilityIndex).toBeCloseTo(expected.facilityIndex, 10);
      expect(stats.sd).toBeCloseTo(expected.sd, 10);
      expect(stats.discriminationIndex).toBeCloseTo(expected.discriminationIndex, 10);
      expect(stats.discriminativeEfficiency).toBeCloseTo(expected.discriminativeEfficiency, 10);
    }
  });

  it('take the sorted pairing as the largest covariance any pairing reaches', () => {
    for (const index of [0, 1, 2]) {
      const marks = column(index);
      const rests = restOf(index);
      let best = Number.NEGATIVE_INFINITY;
      for (const order of permutations(rests)) best = Math.max(best, covariance(marks, order));
      expect(aggregatesOf(marks, rests, 1).covarianceMax).toBeCloseTo(best, 12);
    }
  });

  it('a discrimination index of 100 × Pearson r, from its own definition', () => {
    const marks = column(2);
    const rests = restOf(2);
    const mx = mean(marks);
    const my = mean(rests);
    const r =
      sum(marks.map((x, i) => (x - mx) * ((rests[i] as number) - my))) /
      Math.sqrt(sum(marks.map((x) => (x - mx) ** 2)) * sum(rests.map((y) => (y - my) ** 2)));
    expect(itemStatistics(aggregatesOf(marks, rests, 2)).discriminationIndex).toBeCloseTo(
      100 * r,
      10,
    );
  });

  it('is all null for a question nobody was shown', () => {
    expect(itemStatistics(aggregatesOf([], [], 1))).toEqual({
      facilityIndex: null,
      sd: null,
      discriminationIndex: null,
      discriminativeEfficiency: null,
    });
  });

  it('gives only the facility index for one attempt', () => {
    expect(itemStatistics(aggregatesOf([0.5], [3], 1))).toEqual({
      facilityIndex: 50,
      sd: null,
      discriminationIndex: null,
      discriminativeEfficiency: null,
    });
  });

  it('cannot discriminate when everyone got the same mark, or the rest did not vary', () => {
    const everyoneRight = itemStatistics(aggregatesOf([1, 1, 1, 1], [0, 2, 3, 1], 1));
    expect(everyoneRight).toEqual({
      facilityIndex: 100,
      sd: 0,
      discriminationIndex: null,
      discriminativeEfficiency: null,
    });
    // A one-question quiz: the rest of every attempt is 0.
    const alone = itemStatistics(aggregatesOf([1, 0, 1, 0], [0, 0, 0, 0], 1));
    expect(alone.facilityIndex).toBe(50);
    expect(alone.sd).toBeCloseTo(100 * Math.sqrt(1 / 3), 10);
    expect(alone.discriminationIndex).toBeNull();
    expect(alone.discriminativeEfficiency).toBeNull();
  });

  it('reports a question that works against the rest as negative', () => {
    const stats = itemStatistics(aggregatesOf([1, 1, 0, 0], [0, 1, 3, 4], 1));
    expect(stats.discriminationIndex).toBeLessThan(-90);
    expect(stats.discriminativeEfficiency).toBeLessThan(-90);
  });

  it('never answers NaN or Infinity for any combination of missing values', () => {
    const blank: ItemAggregates = {
      n: 3,
      meanFraction: null,
      varFraction: null,
      meanMark: null,
      meanRest: null,
      varMark: null,
      varRest: null,
      covariance: null,
      covarianceMax: null,
    };
    for (const value of Object.values(itemStatistics(blank)))
      expect(value === null || Number.isFinite(value)).toBe(true);
  });
});

describe('the score histogram', () => {
  it('has ten bins of ten points, empty ones included', () => {
    const bins = histogram([
      { bucket: 9, count: 2 },
      { bucket: 2, count: 1 },
    ]);
    expect(bins).toHaveLength(10);
    expect(bins[0]).toEqual({ from: 0, to: 10, count: 0 });
    expect(bins[2]).toEqual({ from: 20, to: 30, count: 1 });
    expect(bins[9]).toEqual({ from: 90, to: 100, count: 2 });
  });
});
