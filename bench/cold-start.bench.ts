import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type BenchContext,
  type Benchmark,
  type PairRun,
  pairsNote,
  rounds,
  runPairs,
} from './lib/benchmark.ts';
import { type Child, start, stop, waitForExit } from './lib/children.ts';
import { processCpuSeconds, systemCpu } from './lib/cpu.ts';
import { freePort, waitForOk } from './lib/net.ts';
import {
  formatMs,
  formatRatio,
  markdownTable,
  resultsTable,
  runLine,
  type Section,
  yesNo,
} from './lib/report.ts';
import {
  assayEnv,
  freshDir,
  REPO_ROOT,
  removeDir,
  startAssay,
  startBareFastify,
} from './lib/servers.ts';
import { median, ratios, spread } from './lib/stats.ts';

const TARGET_MS = 3_000;
const POLL_INTERVAL_MS = 10;
/** The protocol's minimum; each round is three cold starts and stops (about 6 s). */
const PROTOCOL_ROUNDS = { warmups: 3, pairs: 5 };
const DEFAULT_ROUNDS = { warmups: 3, pairs: 6 };
/** Extra pairs allowed to replace noisy ones (each is about 6 s). */
const MAX_EXTRA_PAIRS = 3;
/** Runs of the phase diagnostic per kind of DATA_DIR (context only, not interleaved). */
const PHASE_RUNS = 3;
const MAX_EXTRA_PHASE_RUNS = 2;

type Kind = 'bare' | 'empty' | 'existing';
const KINDS: readonly Kind[] = ['bare', 'empty', 'existing'];

type Sample = {
  startMs: number;
  stopMs: number;
  /** Machine-wide busy CPU during the start not used by the server or the harness: noise. */
  otherCores: number;
};

async function stopCleanly(child: Child): Promise<number> {
  const stoppingAt = performance.now();
  const exit = await stop(child);
  if (exit.code !== 0) {
    throw new Error(
      `${child.name} exited with ${exit.code ?? exit.signal} after SIGTERM:\n${child.output()}`,
    );
  }
  return performance.now() - stoppingAt;
}

/** Spawn to the first 200 from /health (polled every 10 ms); then SIGTERM and wait for the exit. */
async function coldStart(kind: Kind, existingDir: string): Promise<Sample> {
  const port = await freePort();
  const dataDir = kind === 'empty' ? await freshDir('cold-empty') : existingDir;
  try {
    const systemBefore = systemCpu();
    const harnessBefore = process.cpuUsage();
    const spawnedAt = performance.now();
    const child = kind === 'bare' ? startBareFastify(port) : startAssay(port, dataDir);
    let startMs: number;
    let otherCores: number;
    try {
      const { at } = await waitForOk(child, port, '/health', { intervalMs: POLL_INTERVAL_MS });
      startMs = at - spawnedAt;
      const childSeconds = processCpuSeconds(child.pid);
      const harness = process.cpuUsage(harnessBefore);
      const busySeconds = systemCpu().busySeconds - systemBefore.busySeconds;
      const otherSeconds = busySeconds - childSeconds - (harness.user + harness.system) / 1e6;
      otherCores = Math.max(0, (otherSeconds * 1000) / startMs);
    } catch (error) {
      await stop(child).catch(() => undefined);
      throw error;
    }
    return { startMs, stopMs: await stopCleanly(child), otherCores };
  } finally {
    if (kind === 'empty') await removeDir(dataDir);
  }
}

type PhaseRun = {
  phases: Array<[string, number]>;
  totalMs: number;
  /** Machine-wide busy CPU during the run not used by it or the harness: noise. */
  otherCores: number;
};
type PhasePair = { empty: PhaseRun; existing: PhaseRun };

/** One run of bench/lib/startup-phases.ts: serve()'s steps with a timestamp after each. */
async function startupPhases(dataDir: string): Promise<PhaseRun> {
  const port = await freePort();
  const systemBefore = systemCpu();
  const harnessBefore = process.cpuUsage();
  const spawnedAt = performance.now();
  const child = start(
    'startup phases',
    process.execPath,
    ['--import', 'tsx', 'bench/lib/startup-phases.ts'],
    { cwd: REPO_ROOT, env: assayEnv(port, dataDir) },
  );
  const findLine = () =>
    child
      .output()
      .split('\n')
      .find((text) => text.startsWith('PHASES ') && text.endsWith('}'));
  const deadline = performance.now() + 60_000;
  while (findLine() === undefined && !child.hasExited() && performance.now() < deadline) {
    await sleep(POLL_INTERVAL_MS);
  }
  const windowMs = performance.now() - spawnedAt;
  const busySeconds = systemCpu().busySeconds - systemBefore.busySeconds;
  const harness = process.cpuUsage(harnessBefore);
  const exit = await waitForExit(child, 60_000);
  await Promise.race([child.closed, sleep(1_000)]);
  const line = findLine();
  if (exit.code !== 0 || line === undefined) {
    throw new Error(
      `startup phase diagnostic failed (${exit.code ?? exit.signal}):\n${child.output()}`,
    );
  }
  const report = JSON.parse(line.slice('PHASES '.length)) as {
    marks: Array<[string, number]>;
    cpuSeconds: number;
  };
  const { marks } = report;
  const phases = marks.map(([name, at], index): [string, number] => [
    name,
    at - (index === 0 ? 0 : marks[index - 1]![1]),
  ]);
  const otherSeconds = busySeconds - report.cpuSeconds - (harness.user + harness.system) / 1e6;
  return {
    phases,
    totalMs: marks.at(-1)?.[1] ?? Number.NaN,
    otherCores: Math.max(0, (otherSeconds * 1000) / windowMs),
  };
}

function phaseTable(empty: readonly PhaseRun[], existing: readonly PhaseRun[]) {
  const names = empty[0]?.phases.map(([name]) => name) ?? [];
  const medianOf = (runs: readonly PhaseRun[], index: number) =>
    median(runs.map((run) => run.phases[index]![1]));
  const rows = names.map((name, index) => [
    name,
    formatMs(medianOf(empty, index)),
    formatMs(medianOf(existing, index)),
  ]);
  rows.push([
    '**total** (process time origin to first 200)',
    `**${formatMs(median(empty.map((run) => run.totalMs)))}**`,
    `**${formatMs(median(existing.map((run) => run.totalMs)))}**`,
  ]);
  const largest = (runs: readonly PhaseRun[]) =>
    names
      .map((name, index) => ({ name, ms: medianOf(runs, index) }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 2)
      .map((phase) => `${phase.name} (${formatMs(phase.ms)})`)
      .join(', then ');
  return {
    table: markdownTable(['phase', 'empty DATA_DIR', 'DATA_DIR with data'], rows),
    summary: `Largest phases: empty DATA_DIR ${largest(empty)}; DATA_DIR with data ${largest(existing)}.`,
  };
}

type Round = Record<Kind, Sample>;

export const coldStartBenchmark: Benchmark = {
  name: 'cold-start',
  summary: 'spawn of `node bin/assay.mjs serve` until /health first answers 200, vs bare Fastify',
  async run(context: BenchContext): Promise<Section> {
    const used = rounds(DEFAULT_ROUNDS);
    let phaseRun: PairRun<PhasePair>;
    const existingDir = await freshDir('cold-existing');
    let run: PairRun<Round>;
    try {
      // "Started once before": the first start creates the database, migrates, writes the secret.
      await coldStart('existing', existingDir);
      if (!existsSync(join(existingDir, 'db', 'PG_VERSION'))) {
        throw new Error(`the preparatory start left no database in ${existingDir}`);
      }
      run = await runPairs<Round>({
        rounds: used,
        protocol: PROTOCOL_ROUNDS,
        maxExtra: MAX_EXTRA_PAIRS,
        run: async () => ({
          bare: await coldStart('bare', existingDir),
          empty: await coldStart('empty', existingDir),
          existing: await coldStart('existing', existingDir),
        }),
        noise: (round) => Math.max(...KINDS.map((kind) => round[kind].otherCores)),
        log: (label, round) =>
          context.log(
            `${label}: ${KINDS.map(
              (kind) =>
                `${kind} ${round[kind].startMs.toFixed(0)} ms (stop ${round[kind].stopMs.toFixed(0)}, other ${round[kind].otherCores.toFixed(2)} cores)`,
            ).join(', ')}`,
          ),
      });
      phaseRun = await runPairs<PhasePair>({
        rounds: { warmups: 0, pairs: PHASE_RUNS },
        protocol: { warmups: 0, pairs: PHASE_RUNS },
        maxExtra: MAX_EXTRA_PHASE_RUNS,
        run: async () => {
          const emptyDir = await freshDir('phases-empty');
          try {
            const empty = await startupPhases(emptyDir);
            return { empty, existing: await startupPhases(existingDir) };
          } finally {
            await removeDir(emptyDir);
          }
        },
        noise: (pair) => Math.max(pair.empty.otherCores, pair.existing.otherCores),
        log: (label, pair) =>
          context.log(
            `phase diagnostic ${label.replace('pair', 'run')}: empty ${pair.empty.totalMs.toFixed(0)} ms (other ${pair.empty.otherCores.toFixed(2)} cores), existing ${pair.existing.totalMs.toFixed(0)} ms (other ${pair.existing.otherCores.toFixed(2)} cores)`,
          ),
      });
    } finally {
      await removeDir(existingDir);
    }

    const values = (pairs: readonly Round[], kind: Kind, key: keyof Sample) =>
      pairs.map((round) => round[kind][key]);
    const starts = (kind: Kind) => values(run.used, kind, 'startMs');
    const stops = (kind: Kind) => values(run.used, kind, 'stopMs');
    const others = (kind: Kind) => values(run.used, kind, 'otherCores');
    const emptyMedian = median(starts('empty'));
    const existingMedian = median(starts('existing'));
    const rows = [
      {
        metric: 'cold start, empty DATA_DIR',
        reference: formatMs(median(starts('bare'))),
        candidate: formatMs(emptyMedian),
        ratio: formatRatio(spread(ratios(starts('bare'), starts('empty'))), 1),
        target: `< ${formatMs(TARGET_MS)} absolute`,
        met: yesNo(emptyMedian < TARGET_MS),
      },
      {
        metric: 'cold start, DATA_DIR with data',
        reference: formatMs(median(starts('bare'))),
        candidate: formatMs(existingMedian),
        ratio: formatRatio(spread(ratios(starts('bare'), starts('existing'))), 1),
        target: `< ${formatMs(TARGET_MS)} absolute`,
        met: yesNo(existingMedian < TARGET_MS),
      },
      {
        metric: 'SIGTERM to exit, empty DATA_DIR (context)',
        reference: formatMs(median(stops('bare'))),
        candidate: formatMs(median(stops('empty'))),
        ratio: formatRatio(spread(ratios(stops('bare'), stops('empty'))), 1),
        target: '—',
        met: '—',
      },
      {
        metric: 'SIGTERM to exit, DATA_DIR with data (context)',
        reference: formatMs(median(stops('bare'))),
        candidate: formatMs(median(stops('existing'))),
        ratio: formatRatio(spread(ratios(stops('bare'), stops('existing'))), 1),
        target: '—',
        met: '—',
      },
      {
        metric: 'other processes on the machine during the start, cores (noise)',
        reference: median(others('bare')).toFixed(2),
        candidate: `${median(others('empty')).toFixed(2)} empty, ${median(others('existing')).toFixed(2)} with data`,
        ratio: '—',
        target: '—',
        met: '—',
      },
    ];
    const phases = phaseTable(
      phaseRun.used.map((pair) => pair.empty),
      phaseRun.used.map((pair) => pair.existing),
    );
    const phaseSelection = phaseRun.noisy
      ? `only ${phaseRun.clean.length} of ${phaseRun.all.length} runs were clean, so all are used: noisy`
      : `${phaseRun.used.length} clean runs of ${phaseRun.all.length}`;
    const list = (kind: Kind) =>
      run.all
        .map((round) => `${round[kind].startMs.toFixed(0)}${run.clean.includes(round) ? '' : '*'}`)
        .join(', ');
    const verdict =
      emptyMedian < TARGET_MS && existingMedian < TARGET_MS
        ? `Target met: both medians are under ${formatMs(TARGET_MS)}.`
        : `**Target missed** (${[
            emptyMedian >= TARGET_MS ? `empty DATA_DIR ${formatMs(emptyMedian)}` : '',
            existingMedian >= TARGET_MS ? `DATA_DIR with data ${formatMs(existingMedian)}` : '',
          ]
            .filter(Boolean)
            .join(', ')}). ${phases.summary}`;

    const body = [
      '## cold-start',
      '',
      runLine(context.env, context.command),
      '',
      'Time from `spawn()` of `node bin/assay.mjs serve` (what `npm start` runs; node is spawned',
      "directly so npm's own startup, a few hundred ms, is not counted) until `GET /health` first",
      `answers 200, polled on a new connection every ${POLL_INTERVAL_MS} ms. Environment: a free`,
      '`PORT`, `HOST=127.0.0.1`, `LOG_LEVEL=warn`, `DATABASE_URL` and `REDIS_URL` unset (so the',
      'embedded database and in-memory queue), workers in-process (the default). Each start is',
      'followed by SIGTERM and a wait for the exit. **Empty DATA_DIR**: a new `mkdtemp` directory',
      'per round. **DATA_DIR with data**: one directory started once before the rounds (database',
      'created and migrated, JWT secret written) and reused.',
      '',
      '**Reference**: `node -e` running bare Fastify (CommonJS, no tsx, no plugins) with one',
      '`/health` route returning small JSON, polled and stopped the same way, so the ratio is',
      "Assay's overhead over Node + Fastify startup. Each round runs reference, empty, with data",
      `in that order. ${pairsNote(run, used, PROTOCOL_ROUNDS, MAX_EXTRA_PAIRS)}`,
      '',
      resultsTable(rows),
      '',
      verdict,
      '',
      `Start times of every measured pair (ms; * = set aside as noisy): reference ${list('bare')}; empty ${list('empty')}; with data ${list('existing')}. All pairs, noisy included: empty ${formatRatio(spread(ratios(values(run.all, 'bare', 'startMs'), values(run.all, 'empty', 'startMs'))), 1)} × reference, median ${formatMs(median(values(run.all, 'empty', 'startMs')))}; with data ${formatRatio(spread(ratios(values(run.all, 'bare', 'startMs'), values(run.all, 'existing', 'startMs'))), 1)} ×, median ${formatMs(median(values(run.all, 'existing', 'startMs')))}.`,
      '',
      `### Where the time goes (context; medians of ${phaseSelection}; after the rounds above)`,
      '',
      '`bench/lib/startup-phases.ts` repeats the steps of `assay serve` in order with a',
      'timestamp after each, in a fresh `node --import tsx` process with the same environment.',
      "The first phase is from the process's time origin (the spawn itself, a few ms, is not",
      'included).',
      '',
      phases.table,
    ].join('\n');
    return { name: 'cold-start', body };
  },
};
