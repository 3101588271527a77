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

export const roundsNote = (used: Rounds, protocol: Rounds) =>
  used.warmups >= protocol.warmups && used.pairs >= protocol.pairs
    ? `${used.warmups} warm-up rounds discarded, ${used.pairs} measured pairs.`
    : `${used.warmups} warm-up rounds discarded, ${used.pairs} measured pairs: **fewer than the protocol's ${protocol.warmups} warm-ups and ${protocol.pairs} pairs (BENCH_WARMUPS/BENCH_PAIRS override); indicative only.**`;
