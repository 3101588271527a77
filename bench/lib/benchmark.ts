import type { Environment } from './environment.ts';
import type { Section } from './report.ts';

export type BenchContext = {
  env: Environment;
  /** The command line of this run, as recorded in the results. */
  command: string;
  log: (line: string) => void;
};

export type Benchmark = {
  name: string;
  summary: string;
  run(context: BenchContext): Promise<Section>;
};

export type Rounds = { warmups: number; pairs: number };

/**
 * Round counts, overridable with BENCH_WARMUPS and BENCH_PAIRS for a quick look while working
 * on the harness. The counts used are printed in each section, so a short run is visible.
 */
export function rounds(defaults: Rounds): Rounds {
  const read = (name: string, fallback: number, min: number) => {
    const raw = process.env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min) {
      throw new Error(`${name} must be a whole number of at least ${min} (got ${raw})`);
    }
    return value;
  };
  return {
    warmups: read('BENCH_WARMUPS', defaults.warmups, 0),
    pairs: read('BENCH_PAIRS', defaults.pairs, 1),
  };
}

/** A measured pair is clean when other processes used less than this many cores during it. */
export const NOISE_LIMIT_CORES = 0.25;

export type PairRun<T> = {
  /** Every measured pair, clean or not, in order. */
  all: T[];
  /** The pairs the results use: the clean ones when there are enough, otherwise all of them. */
  used: T[];
  /** The measured pairs that were clean. */
  clean: T[];
  /** Too few pairs were clean, so `used` includes noisy ones. */
  noisy: boolean;
};

/**
 * Runs `warmups` discarded rounds, then measured pairs until `pairs` of them are clean (other
 * processes on the machine stayed under NOISE_LIMIT_CORES during the pair, judged from
 * /proc/stat and never from the timings) or `maxExtra` extra pairs have been run. The selection
 * uses only the noise reading, so it cannot favour either side.
 */
export async function runPairs<T>(options: {
  rounds: Rounds;
  protocol: Rounds;
  maxExtra: number;
  run: () => Promise<T>;
  /** Cores used by other processes during the pair (the larger of its two sides). */
  noise: (pair: T) => number;
  log: (label: string, pair: T) => void;
}): Promise<PairRun<T>> {
  const { warmups, pairs } = options.rounds;
  for (let round = 1; round <= warmups; round += 1) {
    options.log(`warm-up ${round}`, await options.run());
  }
  const all: T[] = [];
  const clean: T[] = [];
  while (clean.length < pairs && all.length < pairs + options.maxExtra) {
    const pair = await options.run();
    const isClean = options.noise(pair) < NOISE_LIMIT_CORES;
    all.push(pair);
    if (isClean) clean.push(pair);
    options.log(`pair ${all.length}${isClean ? '' : ' (noisy)'}`, pair);
  }
  const enough = clean.length >= Math.min(pairs, options.protocol.pairs);
  return { all, used: enough ? clean : all, clean, noisy: !enough };
}

/** How many rounds ran and which ones the results use, for the section text. */
export function pairsNote<T>(
  run: PairRun<T>,
  used: Rounds,
  protocol: Rounds,
  maxExtra: number,
): string {
  const override =
    used.warmups < protocol.warmups || used.pairs < protocol.pairs
      ? ` **Fewer rounds than the protocol's ${protocol.warmups} warm-ups and ${protocol.pairs} pairs (BENCH_WARMUPS/BENCH_PAIRS override): indicative only.**`
      : '';
  const discarded = run.all.length - run.clean.length;
  const selection = run.noisy
    ? ` **Only ${run.clean.length} of ${run.all.length} pairs were clean (other processes under ${NOISE_LIMIT_CORES} cores), so the table uses all ${run.all.length}: noisy.**`
    : discarded > 0
      ? ` ${discarded} of ${run.all.length} measured pairs were set aside because other processes used ${NOISE_LIMIT_CORES} cores or more of the machine during them (re-run, up to ${maxExtra} extra pairs); the table uses the ${run.used.length} clean pairs.`
      : ` All ${run.all.length} measured pairs were clean (other processes under ${NOISE_LIMIT_CORES} cores).`;
  return `${used.warmups} warm-up rounds discarded.${selection}${override}`;
}
