import { setTimeout as sleep } from 'node:timers/promises';
import {
  type BenchContext,
  type Benchmark,
  type PairRun,
  pairsNote,
  rounds,
  runPairs,
} from './lib/benchmark.ts';
import { type Child, stop } from './lib/children.ts';
import { processCpuSeconds, systemCpu } from './lib/cpu.ts';
import { closedLoop, type LoadResult } from './lib/load.ts';
import { freePort, waitForOk } from './lib/net.ts';
import {
  formatCount,
  formatMs,
  formatRatio,
  resultsTable,
  runLine,
  type Section,
  yesNo,
} from './lib/report.ts';
import { freshDir, removeDir, startAssay, startBareFastify } from './lib/servers.ts';
import { median, ratios, spread } from './lib/stats.ts';

const CONNECTIONS = 50;
/** Short rounds, many pairs: on a shared machine a burst of other work then spoils few pairs. */
const DURATION_MS = 2_000;
const PAUSE_MS = 250;
const THROUGHPUT_TARGET = 0.7;
const PROTOCOL_ROUNDS = { warmups: 3, pairs: 5 };
const DEFAULT_ROUNDS = { warmups: 3, pairs: 12 };
/** Extra pairs allowed to replace noisy ones (each is about 4.5 s). */
const MAX_EXTRA_PAIRS = 12;

type Pair = { reference: Sample; candidate: Sample };

type Sample = LoadResult & {
  serverCpuUsPerRequest: number;
  serverCpuCores: number;
  /** Requests answered per CPU-second of the server: what one core could serve, whatever the client. */
  requestsPerServerCpuSecond: number;
  /** CPU of the other (unloaded) server during the round. */
  idleServerCores: number;
  /** Machine-wide busy CPU not used by the two servers or the load generator: other processes. */
  otherCores: number;
  stealCores: number;
};

/** Loads `child`; `idle` is the other server, whose CPU meanwhile is counted apart from noise. */
async function loadRound(child: Child, port: number, idle: Child): Promise<Sample> {
  const systemBefore = systemCpu();
  const cpuBefore = processCpuSeconds(child.pid);
  const idleBefore = processCpuSeconds(idle.pid);
  const result = await closedLoop({
    port,
    path: '/health',
    connections: CONNECTIONS,
    durationMs: DURATION_MS,
  });
  if (child.hasExited()) throw new Error(`${child.name} exited under load:\n${child.output()}`);
  const cpuSeconds = processCpuSeconds(child.pid) - cpuBefore;
  const idleCores = ((processCpuSeconds(idle.pid) - idleBefore) * 1000) / result.elapsedMs;
  const systemAfter = systemCpu();
  const serverCpuCores = (cpuSeconds * 1000) / result.elapsedMs;
  const busyCores =
    ((systemAfter.busySeconds - systemBefore.busySeconds) * 1000) / result.elapsedMs;
  return {
    ...result,
    serverCpuUsPerRequest: (cpuSeconds * 1e6) / Math.max(1, result.ok),
    serverCpuCores,
    requestsPerServerCpuSecond: result.ok / Math.max(cpuSeconds, 1e-3),
    idleServerCores: idleCores,
    otherCores: Math.max(0, busyCores - serverCpuCores - idleCores - result.clientCpuCores),
    stealCores: ((systemAfter.stealSeconds - systemBefore.stealSeconds) * 1000) / result.elapsedMs,
  };
}

const describe = (sample: Sample) =>
  `${formatCount(sample.requestsPerSecond)} req/s, p99 ${sample.p99Ms.toFixed(2)} ms, server ${sample.serverCpuCores.toFixed(2)} cores, client ${sample.clientCpuCores.toFixed(2)}, idle server ${sample.idleServerCores.toFixed(2)}, other ${sample.otherCores.toFixed(2)}, steal ${sample.stealCores.toFixed(2)} cores${sample.failed > 0 ? `, ${sample.failed} failed` : ''}`;

export const healthBenchmark: Benchmark = {
  name: 'health',
  summary: 'GET /health throughput and p99 of Assay vs a bare Fastify route',
  async run(context: BenchContext): Promise<Section> {
    const used = rounds(DEFAULT_ROUNDS);
    let run: PairRun<Pair>;
    const dataDir = await freshDir('health');
    const children: Child[] = [];
    try {
      const barePort = await freePort();
      const bare = startBareFastify(barePort);
      children.push(bare);
      await waitForOk(bare, barePort, '/health');
      const assayPort = await freePort();
      const assay = startAssay(assayPort, dataDir);
      children.push(assay);
      const first = await waitForOk(assay, assayPort, '/health');
      const report = JSON.parse(first.body) as { status?: string };
      if (report.status !== 'ok') context.log(`note: Assay reports ${first.body}`);

      run = await runPairs<Pair>({
        rounds: used,
        protocol: PROTOCOL_ROUNDS,
        maxExtra: MAX_EXTRA_PAIRS,
        run: async () => {
          const reference = await loadRound(bare, barePort, assay);
          await sleep(PAUSE_MS);
          const candidate = await loadRound(assay, assayPort, bare);
          await sleep(PAUSE_MS);
          return { reference, candidate };
        },
        noise: (pair) => Math.max(pair.reference.otherCores, pair.candidate.otherCores),
        log: (label, pair) =>
          context.log(
            `${label}: bare ${describe(pair.reference)} | assay ${describe(pair.candidate)}`,
          ),
      });
    } finally {
      for (const child of children) await stop(child).catch(() => undefined);
      await removeDir(dataDir);
    }

    const reference = run.used.map((pair) => pair.reference);
    const candidate = run.used.map((pair) => pair.candidate);
    const allRatio = (key: keyof Sample) =>
      formatRatio(
        spread(
          ratios(
            run.all.map((pair) => pair.reference[key]),
            run.all.map((pair) => pair.candidate[key]),
          ),
        ),
      );
    const perPair = (key: keyof Sample) =>
      run.all
        .map(
          (pair) =>
            `${(pair.candidate[key] / pair.reference[key]).toFixed(2)}${run.clean.includes(pair) ? '' : '*'}`,
        )
        .join(', ');
    const pick = (samples: readonly Sample[], key: keyof Sample) =>
      samples.map((sample) => sample[key]);
    const row = (
      metric: string,
      key: keyof Sample,
      format: (value: number) => string,
      target = '—',
      met = '—',
    ) => ({
      metric,
      reference: format(median(pick(reference, key))),
      candidate: format(median(pick(candidate, key))),
      ratio: formatRatio(spread(ratios(pick(reference, key), pick(candidate, key)))),
      target,
      met,
    });
    const throughputRatio = spread(
      ratios(pick(reference, 'requestsPerSecond'), pick(candidate, 'requestsPerSecond')),
    );
    const capacityRatio = spread(
      ratios(
        pick(reference, 'requestsPerServerCpuSecond'),
        pick(candidate, 'requestsPerServerCpuSecond'),
      ),
    );
    const failed = (samples: readonly Sample[]) => samples.reduce((sum, s) => sum + s.failed, 0);
    const clientBound = Math.max(...pick(reference, 'clientCpuCores')) > 0.85;

    const body = [
      '## health',
      '',
      runLine(context.env, context.command),
      '',
      '`GET /health` of the real app (`node bin/assay.mjs serve`, a temp DATA_DIR, embedded',
      'database and in-memory queue, workers in-process, `LOG_LEVEL=warn`) against a bare Fastify',
      'route returning small JSON (`node -e`, CommonJS, no plugins), each in its own child process,',
      'both running for the whole benchmark. Load: a closed-loop client in the harness process',
      `(\`node:http\`, keep-alive Agent, ${CONNECTIONS} connections, each sending the next request`,
      `when the previous answer is read), ${DURATION_MS / 1000} s per round, rounds interleaved`,
      `reference, candidate with ${PAUSE_MS} ms pauses. ${pairsNote(run, used, PROTOCOL_ROUNDS, MAX_EXTRA_PAIRS)}`,
      '',
      "Assay's `/health` caches its dependency probes (database, storage, bwrap sandbox) for",
      '`HEALTH_CACHE_MS` (default 1000 ms, used here), so most requests are served from the cache,',
      'which is why it can approach the bare route; once a second a request runs the probes (a',
      'bwrap spawn among them), which shows in the tail.',
      '',
      resultsTable([
        row(
          'throughput (req/s, higher is better)',
          'requestsPerSecond',
          formatCount,
          `ratio ≥ ${THROUGHPUT_TARGET.toFixed(2)}`,
          yesNo(throughputRatio.median >= THROUGHPUT_TARGET),
        ),
        row('p99 latency (lower is better)', 'p99Ms', (ms) => formatMs(ms, 2), 'report'),
        row('p50 latency (context)', 'p50Ms', (ms) => formatMs(ms, 2)),
        row('max latency (context)', 'maxMs', (ms) => formatMs(ms, 1)),
        row(
          'requests per server CPU-second (client-independent capacity)',
          'requestsPerServerCpuSecond',
          formatCount,
          `ratio ≥ ${THROUGHPUT_TARGET.toFixed(2)}`,
          yesNo(capacityRatio.median >= THROUGHPUT_TARGET),
        ),
        row(
          'server CPU per request (context)',
          'serverCpuUsPerRequest',
          (us) => `${us.toFixed(0)} µs`,
        ),
        row('server CPU, cores (context)', 'serverCpuCores', (cores) => cores.toFixed(2)),
        row('load generator CPU, cores (context)', 'clientCpuCores', (cores) => cores.toFixed(2)),
        {
          ...row('other processes on the machine, cores (noise)', 'otherCores', (cores) =>
            cores.toFixed(2),
          ),
          ratio: '—',
        },
        {
          ...row('CPU steal, cores (noise)', 'stealCores', (cores) => cores.toFixed(2)),
          ratio: '—',
        },
      ]),
      '',
      `Failed requests (non-200 or transport errors) in measured rounds: reference ${failed(reference)}, candidate ${failed(candidate)}.`,
      '',
      `Per-pair ratios of every measured pair (* = set aside as noisy): throughput ${perPair('requestsPerSecond')}; p99 ${perPair('p99Ms')}. All pairs, noisy included: throughput ${allRatio('requestsPerSecond')}, p99 ${allRatio('p99Ms')}, capacity ${allRatio('requestsPerServerCpuSecond')}.`,
      '',
      'Server CPU is read from `/proc/<pid>/stat` (user + system, plus waited-for children such',
      "as the sandbox probe), so the capacity row does not depend on the client's speed. The load",
      'generator is one Node process sharing the two cores with the server, and `node:http` costs',
      'more CPU per request than bare Fastify does to answer it; when the client is near one full',
      'core the reference is client-bound, the throughput ratio is squeezed towards 1 and the',
      `capacity ratio is the better guide to the real gap.${clientBound ? ' **That was the case in this run** (the client was above 0.85 cores in reference rounds).' : ''}`,
    ].join('\n');
    return { name: 'health', body };
  },
};
