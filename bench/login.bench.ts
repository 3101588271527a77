import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import {
  type BenchContext,
  type Benchmark,
  NOISE_LIMIT_CORES,
  type PairRun,
  pairsNote,
  rounds,
  runPairs,
} from './lib/benchmark.ts';
import { type Child, start, stop, waitForExit } from './lib/children.ts';
import { processCpuSeconds, systemCpu } from './lib/cpu.ts';
import { closedLoop, type LoadResult } from './lib/load.ts';
import { freePort, HOST, send, waitForOk } from './lib/net.ts';
import {
  formatCount,
  formatMs,
  formatRatio,
  resultsTable,
  runLine,
  type Section,
  yesNo,
} from './lib/report.ts';
import { assayEnv, freshDir, REPO_ROOT, removeDir } from './lib/servers.ts';
import { median, ratios, spread } from './lib/stats.ts';

const LOGIN_PATH = '/api/v1/auth/login';
const EMAIL = 'bench@example.com';
const PASSWORD = 'bench-password-long-enough-42';
const LOGIN_BODY = JSON.stringify({ email: EMAIL, password: PASSWORD });
const JSON_HEADERS = { 'content-type': 'application/json' } as const;

/** The hash dominates: a few more connections than verifications can run at once; more only queue. */
const CONNECTIONS = 8;
const DURATION_MS = 4_000;
const PAUSE_MS = 250;
const PROTOCOL_ROUNDS = { warmups: 3, pairs: 5 };
const DEFAULT_ROUNDS = { warmups: 3, pairs: 8 };
/** Extra pairs allowed to replace noisy ones (each is about 8.5 s). */
const MAX_EXTRA_PAIRS = 8;

const HASH_WARMUPS = 3;
const HASH_VERIFICATIONS = 30;
/** Tries of the hash-cost child when other processes were busy during one. */
const HASH_ATTEMPTS = 3;
const HASH_TARGET_MS = { min: 50, max: 250 };

const PASSWORD_MODULE = pathToFileURL(
  join(REPO_ROOT, 'src', 'platform', 'crypto', 'password.ts'),
).href;
const CPU_MODULE = pathToFileURL(join(REPO_ROOT, 'bench', 'lib', 'cpu.ts')).href;

/**
 * The hash-cost child (`node --import tsx`, ES module): hashes once with Assay's own
 * PASSWORD_HASH_OPTIONS, then verifies one at a time, timing each, and prints one JSON line.
 * Machine-wide CPU from /proc/stat around the measured loop tells how busy the rest was.
 */
const HASH_COST_SOURCE = `
import argon2 from 'argon2';
const { PASSWORD_HASH_OPTIONS: options } = await import(process.env.PASSWORD_MODULE);
const { systemCpu } = await import(process.env.CPU_MODULE);
const password = process.env.BENCH_PASSWORD;
const hash = await argon2.hash(password, options);
for (let i = 0; i < Number(process.env.WARMUPS); i += 1) await argon2.verify(hash, password);
const wallMs = [];
const cpuMs = [];
const systemBefore = systemCpu();
const cpuBefore = process.cpuUsage();
const startedAt = performance.now();
for (let i = 0; i < Number(process.env.COUNT); i += 1) {
  const cpu = process.cpuUsage();
  const at = performance.now();
  const ok = await argon2.verify(hash, password);
  wallMs.push(performance.now() - at);
  const used = process.cpuUsage(cpu);
  cpuMs.push((used.user + used.system) / 1000);
  if (!ok) throw new Error('argon2.verify returned false');
}
const elapsedMs = performance.now() - startedAt;
const ownCpu = process.cpuUsage(cpuBefore);
const systemAfter = systemCpu();
const busyCores = ((systemAfter.busySeconds - systemBefore.busySeconds) * 1000) / elapsedMs;
const ownCores = (ownCpu.user + ownCpu.system) / 1000 / elapsedMs;
process.stdout.write('HASHCOST ' + JSON.stringify({
  options: { type: options.type, memoryCost: options.memoryCost, timeCost: options.timeCost, parallelism: options.parallelism },
  header: hash.split('$').slice(0, 4).join('$'),
  wallMs,
  cpuMs,
  otherCores: Math.max(0, busyCores - ownCores),
}) + '\\n');
`;

/**
 * The reference server (`node --import tsx`, ES module): bare Fastify, no plugins, one POST route
 * doing one argon2.verify against a hash made at start with the same PASSWORD_HASH_OPTIONS and
 * answering small JSON, so Assay's ratio is its overhead over the hash itself.
 */
const REFERENCE_SOURCE = `
import Fastify from 'fastify';
import argon2 from 'argon2';
const { PASSWORD_HASH_OPTIONS } = await import(process.env.PASSWORD_MODULE);
const hash = await argon2.hash(process.env.BENCH_PASSWORD, PASSWORD_HASH_OPTIONS);
const app = Fastify({ logger: false });
app.get('/health', async () => ({ status: 'ok' }));
app.post('${LOGIN_PATH}', async (request, reply) => {
  const password = request.body?.password;
  const ok = typeof password === 'string' && (await argon2.verify(hash, password));
  if (!ok) return reply.status(401).send({ error: 'invalid credentials' });
  return { ok: true };
});
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
await app.listen({ port: Number(process.env.PORT), host: process.env.HOST, backlog: 4096 });
`;

const childEnv = (extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({
  ...process.env,
  PASSWORD_MODULE,
  CPU_MODULE,
  BENCH_PASSWORD: PASSWORD,
  ...extra,
});

const esmWithTsx = (source: string) => ['--import', 'tsx', '--input-type=module', '-e', source];

type HashCost = {
  options: { type: number; memoryCost: number; timeCost: number; parallelism: number };
  header: string;
  wallMs: number[];
  cpuMs: number[];
  otherCores: number;
};

async function measureHashCost(): Promise<HashCost> {
  const child = start('argon2 hash cost', process.execPath, esmWithTsx(HASH_COST_SOURCE), {
    cwd: REPO_ROOT,
    env: childEnv({ WARMUPS: String(HASH_WARMUPS), COUNT: String(HASH_VERIFICATIONS) }),
  });
  const exit = await waitForExit(child, 120_000);
  await child.closed;
  const line = child
    .output()
    .split('\n')
    .find((text) => text.startsWith('HASHCOST '));
  if (exit.code !== 0 || !line) {
    throw new Error(
      `hash-cost child failed (exit ${exit.code ?? exit.signal}):\n${child.output()}`,
    );
  }
  return JSON.parse(line.slice('HASHCOST '.length)) as HashCost;
}

type Sample = LoadResult & {
  /** Answers other than 200, by status ('error' for transport errors). */
  statuses: Record<string, number>;
  serverCpuMsPerLogin: number;
  serverCpuCores: number;
  loginsPerServerCpuSecond: number;
  idleServerCores: number;
  otherCores: number;
  stealCores: number;
};

type NumericKey = {
  [K in keyof Sample]: Sample[K] extends number ? K : never;
}[keyof Sample];

type Pair = { reference: Sample; candidate: Sample };

/** Loads `child` with logins; `idle` is the other server, whose CPU is counted apart from noise. */
async function loadRound(child: Child, port: number, idle: Child): Promise<Sample> {
  const statuses: Record<string, number> = {};
  const systemBefore = systemCpu();
  const cpuBefore = processCpuSeconds(child.pid);
  const idleBefore = processCpuSeconds(idle.pid);
  const result = await closedLoop({
    port,
    path: LOGIN_PATH,
    connections: CONNECTIONS,
    durationMs: DURATION_MS,
    method: 'POST',
    headers: JSON_HEADERS,
    body: LOGIN_BODY,
    onFailure: (status) => {
      const key = status === undefined ? 'error' : String(status);
      statuses[key] = (statuses[key] ?? 0) + 1;
    },
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
    statuses,
    serverCpuMsPerLogin: (cpuSeconds * 1000) / Math.max(1, result.ok),
    serverCpuCores,
    loginsPerServerCpuSecond: result.ok / Math.max(cpuSeconds, 1e-3),
    idleServerCores: idleCores,
    otherCores: Math.max(0, busyCores - serverCpuCores - idleCores - result.clientCpuCores),
    stealCores: ((systemAfter.stealSeconds - systemBefore.stealSeconds) * 1000) / result.elapsedMs,
  };
}

/** One login on a fresh connection, to check the credentials before the rounds. */
const loginOnce = (port: number) =>
  send(port, { method: 'POST', path: LOGIN_PATH, headers: JSON_HEADERS, body: LOGIN_BODY });

const statusText = (statuses: Record<string, number>) =>
  Object.entries(statuses)
    .map(([status, count]) => `${count}× ${status}`)
    .join(', ');

const describe = (sample: Sample) =>
  `${sample.requestsPerSecond.toFixed(1)} logins/s, p99 ${sample.p99Ms.toFixed(0)} ms, server ${sample.serverCpuCores.toFixed(2)} cores (${sample.serverCpuMsPerLogin.toFixed(1)} ms/login), client ${sample.clientCpuCores.toFixed(2)}, idle server ${sample.idleServerCores.toFixed(2)}, other ${sample.otherCores.toFixed(2)}, steal ${sample.stealCores.toFixed(2)} cores${sample.failed > 0 ? `, ${sample.failed} failed (${statusText(sample.statuses)})` : ''}`;

export const loginBenchmark: Benchmark = {
  name: 'login',
  summary: 'argon2id verification cost; POST /api/v1/auth/login vs a bare argon2 route',
  async run(context: BenchContext): Promise<Section> {
    const used = rounds(DEFAULT_ROUNDS);

    // 1. Hash cost, before any server runs, so nothing of the harness competes.
    const attempts: HashCost[] = [];
    for (let attempt = 1; attempt <= HASH_ATTEMPTS; attempt += 1) {
      const cost = await measureHashCost();
      attempts.push(cost);
      const wall = spread(cost.wallMs);
      context.log(
        `hash cost ${attempt}: ${cost.header}, verify median ${wall.median.toFixed(1)} ms [${wall.min.toFixed(1)}–${wall.max.toFixed(1)}], CPU ${median(cost.cpuMs).toFixed(1)} ms, other ${cost.otherCores.toFixed(2)} cores`,
      );
      if (cost.otherCores < NOISE_LIMIT_CORES) break;
    }
    const hashCost = attempts.reduce((best, cost) =>
      cost.otherCores < best.otherCores ? cost : best,
    );
    const hashNoisy = hashCost.otherCores >= NOISE_LIMIT_CORES;
    const hashWall = spread(hashCost.wallMs);
    const hashCpu = spread(hashCost.cpuMs);
    const { memoryCost, timeCost, parallelism } = hashCost.options;

    // 2. Login throughput, interleaved reference, candidate.
    let run: PairRun<Pair>;
    const allRounds: Pair[] = [];
    const dataDir = await freshDir('login');
    const children: Child[] = [];
    try {
      const referencePort = await freePort();
      const reference = start('bare argon2 route', process.execPath, esmWithTsx(REFERENCE_SOURCE), {
        cwd: REPO_ROOT,
        env: childEnv({ PORT: String(referencePort), HOST }),
      });
      children.push(reference);
      await waitForOk(reference, referencePort, '/health');
      const assayPort = await freePort();
      const assay = start('assay serve', process.execPath, ['bin/assay.mjs', 'serve'], {
        cwd: REPO_ROOT,
        env: {
          ...assayEnv(assayPort, dataDir),
          RATE_LIMIT_LOGIN_PER_MINUTE: '1000000',
          RATE_LIMIT_ANONYMOUS_PER_MINUTE: '1000000',
          ADMIN_EMAIL: EMAIL,
          ADMIN_PASSWORD: PASSWORD,
        },
      });
      children.push(assay);
      await waitForOk(assay, assayPort, '/health');
      for (const [name, port] of [
        ['reference', referencePort],
        ['Assay', assayPort],
      ] as const) {
        const check = await loginOnce(port);
        if (check.status !== 200) {
          throw new Error(`${name} login answered ${check.status}: ${check.body.slice(0, 300)}`);
        }
      }
      const session = JSON.parse((await loginOnce(assayPort)).body) as { accessToken?: unknown };
      if (typeof session.accessToken !== 'string') {
        throw new Error('Assay login answered 200 without an access token');
      }

      run = await runPairs<Pair>({
        rounds: used,
        protocol: PROTOCOL_ROUNDS,
        maxExtra: MAX_EXTRA_PAIRS,
        run: async () => {
          const referenceSample = await loadRound(reference, referencePort, assay);
          await sleep(PAUSE_MS);
          const candidateSample = await loadRound(assay, assayPort, reference);
          await sleep(PAUSE_MS);
          const pair = { reference: referenceSample, candidate: candidateSample };
          allRounds.push(pair);
          // Every answer must be 200, warm-ups included: a 429 means a limit was not lifted.
          for (const [name, sample] of [
            ['Assay', candidateSample],
            ['reference', referenceSample],
          ] as const) {
            if (sample.failed > 0) {
              throw new Error(
                `${name}: ${sample.failed} logins did not answer 200 (${statusText(sample.statuses)})`,
              );
            }
          }
          return pair;
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
    const pick = (samples: readonly Sample[], key: NumericKey) =>
      samples.map((sample) => sample[key]);
    const ratioOf = (pairs: readonly Pair[], key: NumericKey) =>
      spread(
        ratios(
          pairs.map((pair) => pair.reference[key]),
          pairs.map((pair) => pair.candidate[key]),
        ),
      );
    const perPair = (key: NumericKey) =>
      run.all
        .map(
          (pair) =>
            `${(pair.candidate[key] / pair.reference[key]).toFixed(2)}${run.clean.includes(pair) ? '' : '*'}`,
        )
        .join(', ');
    const row = (
      metric: string,
      key: NumericKey,
      format: (value: number) => string,
      target = '—',
      met = '—',
    ) => ({
      metric,
      reference: format(median(pick(reference, key))),
      candidate: format(median(pick(candidate, key))),
      ratio: formatRatio(ratioOf(run.used, key)),
      target,
      met,
    });
    const answered = (side: 'reference' | 'candidate') =>
      allRounds.reduce((sum, pair) => sum + pair[side].ok, 0);
    const cpuOverheadMs =
      median(pick(candidate, 'serverCpuMsPerLogin')) -
      median(pick(reference, 'serverCpuMsPerLogin'));
    const hashMet = hashWall.median >= HASH_TARGET_MS.min && hashWall.median <= HASH_TARGET_MS.max;
    const msRange = (value: { median: number; min: number; max: number }) =>
      `${value.median.toFixed(1)} ms [${value.min.toFixed(1)}–${value.max.toFixed(1)}]`;

    const body = [
      '## login',
      '',
      runLine(context.env, context.command),
      '',
      `**Hash cost.** Passwords are hashed with argon2id and \`PASSWORD_HASH_OPTIONS\` from`,
      '`src/platform/crypto/password.ts`: ' +
        `m = ${formatCount(memoryCost)} KiB (${(memoryCost / 1024).toFixed(0)} MiB), t = ${timeCost}, p = ${parallelism}`,
      `(the stored hash reads \`${hashCost.header}\`). These were chosen so that one verification`,
      `takes ${HASH_TARGET_MS.min}–${HASH_TARGET_MS.max} ms on one core: slow for an attacker, quick enough for people.`,
      'Measured in a child process of its own (`node --import tsx`, importing the options from',
      'that file and `argon2` from node_modules) before any server starts: one hash, then',
      `${HASH_WARMUPS} warm-up verifications discarded and ${HASH_VERIFICATIONS} verifications one at a time, each timed`,
      'on its own. With p = 1 and one verification at a time a single thread does the work; the',
      'CPU time per verification (`process.cpuUsage`, the whole process) shows it is one core.',
      `Other processes on the machine used ${hashCost.otherCores.toFixed(2)} cores meanwhile (/proc/stat)${hashNoisy ? `: **noisy** (limit ${NOISE_LIMIT_CORES}; best of ${attempts.length} tries)` : ''}.`,
      'This is an absolute target, so it has no reference.',
      '',
      `**Login throughput.** \`POST ${LOGIN_PATH}\` with \`{ email, password }\` of the real app`,
      '(`node bin/assay.mjs serve`, a temp DATA_DIR, embedded database and in-memory queue,',
      '`DATABASE_URL`/`REDIS_URL` empty, workers in-process, `LOG_LEVEL=warn`,',
      '`RATE_LIMIT_LOGIN_PER_MINUTE` and `RATE_LIMIT_ANONYMOUS_PER_MINUTE` at 1,000,000 so no limit',
      `applies, and \`ADMIN_EMAIL\`/\`ADMIN_PASSWORD\` so the account exists at start). Each login`,
      'checks the limits, reads the account, verifies the hash (at most 4 at once, the gate in',
      'password.ts), writes an audit row and a refresh token and signs an access token.',
      '**Reference**: bare Fastify (`node --import tsx`, ES module, no plugins) with one POST route',
      "at the same path that does one `argon2.verify` of the body's password against a hash made",
      'at start with the same `PASSWORD_HASH_OPTIONS` (imported from password.ts) and answers',
      "small JSON, so the ratio isolates Assay's overhead over the hash itself. It has no gate of",
      "its own, but argon2 runs on libuv's thread pool (4 threads by default, unchanged in both),",
      'so at most 4 verifications run at once in either server; on 2 cores the hash saturates',
      'the machine either way. Each server in its own child process, both running for the whole',
      `benchmark. Load: the closed-loop client in the harness process (\`node:http\`, keep-alive`,
      `Agent, ${CONNECTIONS} connections, each sending the next login when the previous answer is read;`,
      `more connections would only queue behind the hash), ${DURATION_MS / 1000} s per round, rounds interleaved`,
      `reference, candidate with ${PAUSE_MS} ms pauses. ${pairsNote(run, used, PROTOCOL_ROUNDS, MAX_EXTRA_PAIRS)}`,
      '',
      resultsTable([
        {
          metric: `argon2id verification, one core, median [min–max] of ${HASH_VERIFICATIONS} (m=${memoryCost}, t=${timeCost}, p=${parallelism})`,
          reference: '—',
          candidate: msRange(hashWall),
          ratio: '—',
          target: `${HASH_TARGET_MS.min}–${HASH_TARGET_MS.max} ms absolute`,
          met: yesNo(hashMet),
        },
        {
          metric: 'CPU per verification (context)',
          reference: '—',
          candidate: msRange(hashCpu),
          ratio: '—',
          target: '—',
          met: '—',
        },
        row(
          'login throughput (logins/s, higher is better)',
          'requestsPerSecond',
          (value) => value.toFixed(1),
          'report',
        ),
        row('p99 latency (lower is better)', 'p99Ms', (ms) => formatMs(ms), 'report'),
        row('p50 latency (context)', 'p50Ms', (ms) => formatMs(ms)),
        row('max latency (context)', 'maxMs', (ms) => formatMs(ms)),
        row(
          'logins per server CPU-second (client-independent capacity)',
          'loginsPerServerCpuSecond',
          (value) => value.toFixed(1),
        ),
        row('server CPU per login (context)', 'serverCpuMsPerLogin', (ms) => formatMs(ms, 1)),
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
      `Hash cost ${hashMet ? 'within' : '**outside**'} the ${HASH_TARGET_MS.min}–${HASH_TARGET_MS.max} ms band. Assay spends ${cpuOverheadMs.toFixed(1)} ms more server CPU per login than the bare route (medians), on top of the verification itself.`,
      '',
      `Every login answered 200 in every round, warm-ups included (the benchmark fails otherwise): Assay ${formatCount(answered('candidate'))}, reference ${formatCount(answered('reference'))}.`,
      '',
      `Per-pair ratios of every measured pair (* = set aside as noisy): throughput ${perPair('requestsPerSecond')}; p99 ${perPair('p99Ms')}. All pairs, noisy included: throughput ${formatRatio(ratioOf(run.all, 'requestsPerSecond'))}, p99 ${formatRatio(ratioOf(run.all, 'p99Ms'))}, capacity ${formatRatio(ratioOf(run.all, 'loginsPerServerCpuSecond'))}.`,
      '',
      `With about ${Math.round(median(pick(candidate, 'requestsPerSecond')) * (DURATION_MS / 1000))} logins per round, the p99 is close to the`,
      'slowest answer of the round. Server CPU is read from `/proc/<pid>/stat` (user + system,',
      "all threads, argon2's thread pool included).",
    ].join('\n');
    return { name: 'login', body };
  },
};
