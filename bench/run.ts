/**
 * `npm run bench` runs every benchmark; `npm run bench -- <name> [<name>...]` runs those. Each
 * one that ran replaces its section of bench/RESULTS.md; the other sections are kept. Never part
 * of `npm test`.
 */
import { join } from 'node:path';
import { analyticsBenchmark } from './analytics.bench.ts';
import { autosaveBenchmark } from './autosave.bench.ts';
import { coldStartBenchmark } from './cold-start.bench.ts';
import { examStartBenchmark } from './exam-start.bench.ts';
import { healthBenchmark } from './health.bench.ts';
import { judgingBenchmark } from './judging.bench.ts';
import { leaderboardsBenchmark } from './leaderboards.bench.ts';
import type { Benchmark } from './lib/benchmark.ts';
import { installCleanup, killAll } from './lib/children.ts';
import { describeEnvironment, invocation } from './lib/environment.ts';
import { type Section, writeResults } from './lib/report.ts';
import { REPO_ROOT } from './lib/servers.ts';
import { loginBenchmark } from './login.bench.ts';
import { sandboxBenchmark } from './sandbox.bench.ts';

const BENCHMARKS: readonly Benchmark[] = [
  coldStartBenchmark,
  healthBenchmark,
  loginBenchmark,
  examStartBenchmark,
  autosaveBenchmark,
  sandboxBenchmark,
  judgingBenchmark,
  leaderboardsBenchmark,
  analyticsBenchmark,
];
const RESULTS_FILE = join(REPO_ROOT, 'bench', 'RESULTS.md');

function usage(): string {
  return [
    'usage: npm run bench [-- <name>...]',
    '',
    ...BENCHMARKS.map((bench) => `  ${bench.name.padEnd(12)} ${bench.summary}`),
    '',
    'BENCH_WARMUPS / BENCH_PAIRS override the round counts (the results say so).',
  ].join('\n');
}

async function main(args: readonly string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  const unknown = args.filter((name) => !BENCHMARKS.some((bench) => bench.name === name));
  if (unknown.length > 0) {
    process.stderr.write(`unknown benchmark: ${unknown.join(', ')}\n\n${usage()}\n`);
    return 2;
  }
  const selected =
    args.length === 0 ? BENCHMARKS : BENCHMARKS.filter((bench) => args.includes(bench.name));
  const env = describeEnvironment();
  const command = invocation(args);
  process.stdout.write(
    `bench: ${selected.map((bench) => bench.name).join(', ')} · commit ${env.commit} · Node ${env.node} · load ${env.loadAverage}\n`,
  );

  const sections: Section[] = [];
  const failed: string[] = [];
  try {
    for (const bench of selected) {
      const startedAt = performance.now();
      process.stdout.write(`\n[${bench.name}] ${bench.summary}\n`);
      const log = (line: string) => process.stdout.write(`[${bench.name}] ${line}\n`);
      try {
        sections.push(await bench.run({ env, command, log }));
      } catch (error) {
        // Its section keeps the last good result; the other benchmarks still run.
        failed.push(bench.name);
        log(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        killAll();
        continue;
      }
      log(`done in ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
      // Written after each benchmark, so a later failure keeps the earlier results.
      writeResults(RESULTS_FILE, {
        env,
        command,
        order: BENCHMARKS.map((b) => b.name),
        sections,
      });
    }
  } finally {
    killAll();
  }
  if (sections.length > 0) process.stdout.write(`\nwrote ${RESULTS_FILE}\n`);
  if (failed.length > 0) {
    process.stderr.write(
      `bench: failed: ${failed.join(', ')} (their sections were left as they were)\n`,
    );
    return 1;
  }
  return 0;
}

installCleanup();
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  killAll();
  process.exitCode = 1;
}
