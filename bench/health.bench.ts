import { setTimeout as sleep } from 'node:timers/promises';
import { type BenchContext, type Benchmark, rounds, roundsNote } from './lib/benchmark.ts';
import { type Child, stop } from './lib/children.ts';
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
import {
  freshDir,
  processCpuSeconds,
  removeDir,
  startAssay,
  startBareFastify,
} from './lib/servers.ts';
import { median, ratios, spread } from './lib/stats.ts';

const CONNECTIONS = 50;
const DURATION_MS = 3_000;
const PAUSE_MS = 250;
const THROUGHPUT_TARGET = 0.7;
const PROTOCOL_ROUNDS = { warmups: 3, pairs: 5 };
const DEFAULT_ROUNDS = { warmups: 3, pairs: 7 };

type Sample = LoadResult & { serverCpuUsPerRequest: number; serverCpuCores: number };

async function loadRound(child: Child, port: number): Promise<Sample> {
  const cpuBefore = processCpuSeconds(child.pid);
  const result = await closedLoop({
    port,
    path: '/health',
    connections: CONNECTIONS,
    durationMs: DURATION_MS,
  });
  if (child.hasExited()) throw new Error(`${child.name} exited under load:\n${child.output()}`);
  const cpuSeconds = processCpuSeconds(child.pid) - cpuBefore;
  return {
    ...result,
    serverCpuUsPerRequest: (cpuSeconds * 1e6) / Math.max(1, result.ok),
    serverCpuCores: (cpuSeconds * 1000) / result.elapsedMs,
  };
}

const describe = (sample: Sample) =>
  `${formatCount(sample.requestsPerSecond)} req/s, p99 ${sample.p99Ms.toFixed(2)} ms, server ${sample.serverCpuCores.toFixed(2)} cores, client ${sample.clientCpuCores.toFixed(2)} cores${sample.failed > 0 ? `, ${sample.failed} failed` : ''}`;

export const healthBenchmark: Benchmark = {
  name: 'health',
  summary: 'GET /health throughput and p99 of Assay vs a bare Fastify route',
  async run(context: BenchContext): Promise<Section> {
    const used = rounds(DEFAULT_ROUNDS);
    const reference: Sample[] = [];
    const candidate: Sample[] = [];
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

      for (let round = 0; round < used.warmups + used.pairs; round += 1) {
        const measured = round >= used.warmups;
        const a = await loadRound(bare, barePort);
        await sleep(PAUSE_MS);
        const b = await loadRound(assay, assayPort);
        await sleep(PAUSE_MS);
        if (measured) {
          reference.push(a);
          candidate.push(b);
        }
        context.log(
          `${measured ? 'pair' : 'warm-up'} ${measured ? round - used.warmups + 1 : round + 1}: bare ${describe(a)} | assay ${describe(b)}`,
        );
      }
    } finally {
      for (const child of children) await stop(child).catch(() => undefined);
      await removeDir(dataDir);
    }

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
      `reference, candidate with ${PAUSE_MS} ms pauses. ${roundsNote(used, PROTOCOL_ROUNDS)}`,
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
          'server CPU per request (context)',
          'serverCpuUsPerRequest',
          (us) => `${us.toFixed(0)} µs`,
        ),
        row('server CPU, cores (context)', 'serverCpuCores', (cores) => cores.toFixed(2)),
        row('load generator CPU, cores (context)', 'clientCpuCores', (cores) => cores.toFixed(2)),
      ]),
      '',
      `Failed requests (non-200 or transport errors) in measured rounds: reference ${failed(reference)}, candidate ${failed(candidate)}.`,
      '',
      `Per-pair throughput ratios: ${ratios(
        pick(reference, 'requestsPerSecond'),
        pick(candidate, 'requestsPerSecond'),
      )
        .map((r) => r.toFixed(2))
        .join(', ')}; p99 ratios: ${ratios(pick(reference, 'p99Ms'), pick(candidate, 'p99Ms'))
        .map((r) => r.toFixed(2))
        .join(', ')}.`,
      '',
      'Server CPU is read from `/proc/<pid>/stat` (user + system, plus waited-for children such',
      "as the sandbox probe), so it does not depend on the client's speed. The load generator is",
      'one Node process sharing the two cores with the server; when it is near one full core the',
      'reference is partly client-bound, and the throughput ratio understates the gap that the',
      `CPU-per-request ratio shows.${clientBound ? ' **That was the case in this run** (reference rounds saw the client above 0.85 cores).' : ''}`,
    ].join('\n');
    return { name: 'health', body };
  },
};
