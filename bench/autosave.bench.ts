import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Fixtures } from './lib/assay-fixtures.ts';
import { type Backend, type BackendKind, describeBackend, openBackend } from './lib/backends.ts';
import {
  type BenchContext,
  type Benchmark,
  type PairRun,
  pairsNote,
  type Rounds,
  rounds,
  runPairs,
} from './lib/benchmark.ts';
import { type Child, stop } from './lib/children.ts';
import { type CpuUse, measured, type Probe } from './lib/machine.ts';
import { freePort } from './lib/net.ts';
import {
  formatCount,
  formatMs,
  formatRatio,
  type Row,
  resultsTable,
  runLine,
  type Section,
  yesNo,
} from './lib/report.ts';
import { median, ratios, spread } from './lib/stats.ts';
import {
  type AckLedger,
  failures,
  ledgerKey,
  type SavePhase,
  type Saver,
  type SaveTarget,
  StudentConnections,
  statusText,
} from './lib/students.ts';
import {
  runNodeClosedLoop,
  runWrk,
  WRK_MISSING,
  type WrkResult,
  writeWrkFiles,
  wrkErrors,
  wrkVersion,
} from './lib/wrk.ts';

const STUDENTS = 2_000;
const TIMEOUT_MS = 30_000;
const PAUSE_MS = 1_000;
const PROTOCOL_ROUNDS: Rounds = { warmups: 3, pairs: 5 };
const CEILING_CONNECTIONS = 128;
const THROUGHPUT_TARGET = 0.5;
const CPU_TARGET = 2;

type RatePhase = {
  name: string;
  thinkMs: number;
  /** The candidate's run; the reference runs `bracketMs` before and after it. */
  durationMs: number;
  bracketMs: number;
  p99TargetMs: number;
  /** Which questions the phase writes (disjoint, so each phase's last writes survive to the check). */
  kind: SaveTarget['kind'];
};

type Plan = {
  phases: RatePhase[];
  ceilingMs: number;
  rounds: Rounds;
  maxExtra: number;
};

/**
 * PostgreSQL: a 40 s run at ≈2,000 saves/s and a 12 s run at ≈4,000/s, each bracketed by two
 * shorter reference runs, then the protocol's pairs for the ceiling. PGlite is context: the
 * 2,000/s run only, shorter, and fewer ceiling pairs.
 */
const PLANS: Record<BackendKind, Plan> = {
  postgres: {
    phases: [
      {
        name: '≈2,000 saves/s',
        thinkMs: 1_000,
        durationMs: 40_000,
        bracketMs: 6_000,
        p99TargetMs: 50,
        kind: 'text',
      },
      {
        name: '≈4,000 saves/s',
        thinkMs: 500,
        durationMs: 12_000,
        bracketMs: 4_000,
        p99TargetMs: 100,
        kind: 'number',
      },
    ],
    ceilingMs: 3_000,
    rounds: PROTOCOL_ROUNDS,
    maxExtra: 1,
  },
  pglite: {
    phases: [
      {
        name: '≈2,000 saves/s',
        thinkMs: 1_000,
        durationMs: 10_000,
        bracketMs: 3_000,
        p99TargetMs: 50,
        kind: 'text',
      },
    ],
    ceilingMs: 3_000,
    rounds: { warmups: 1, pairs: 1 },
    maxExtra: 0,
  },
};

type RateSample = {
  savesPerSecond: number;
  ok: number;
  failed: number;
  statuses: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  serverCpuUsPerSave: number;
  databaseCpuUsPerSave: number;
  redisCpuUsPerSave: number;
  serverCores: number;
  clientCores: number;
  otherCores: number;
};

type CeilingSample = {
  savesPerSecond: number;
  ok: number;
  failed: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  serverCpuUsPerSave: number;
  savesPerServerCpuSecond: number;
  databaseCpuUsPerSave: number;
  redisCpuUsPerSave: number;
  serverCores: number;
  idleServerCores: number;
  clientCores: number;
  otherCores: number;
  stealCores: number;
};

type CeilingPair = { reference: CeilingSample; candidate: CeilingSample };

const perSave = (seconds: number, ok: number) => (seconds * 1e6) / Math.max(1, ok);

function rateSample(phase: SavePhase, cpu: CpuUse): RateSample {
  return {
    savesPerSecond: phase.savesPerSecond,
    ok: phase.ok,
    failed: failures(phase.statuses),
    statuses: phase.statuses,
    p50Ms: phase.latency.p50Ms,
    p99Ms: phase.latency.p99Ms,
    p999Ms: phase.latency.p999Ms,
    maxMs: phase.latency.maxMs,
    serverCpuUsPerSave: perSave(cpu.serverSeconds, phase.ok),
    databaseCpuUsPerSave: perSave(cpu.databaseSeconds, phase.ok),
    redisCpuUsPerSave: perSave(cpu.redisSeconds, phase.ok),
    serverCores: cpu.serverCores,
    clientCores: cpu.clientCores,
    otherCores: cpu.otherCores,
  };
}

function ceilingSample(result: WrkResult, cpu: CpuUse): CeilingSample {
  const failed = wrkErrors(result);
  const ok = result.requests - result.errors.status;
  return {
    savesPerSecond: (ok / result.durationMs) * 1000,
    ok,
    failed,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    maxMs: result.maxMs,
    serverCpuUsPerSave: perSave(cpu.serverSeconds, ok),
    savesPerServerCpuSecond: ok / Math.max(cpu.serverSeconds, 1e-3),
    databaseCpuUsPerSave: perSave(cpu.databaseSeconds, ok),
    redisCpuUsPerSave: perSave(cpu.redisSeconds, ok),
    serverCores: cpu.serverCores,
    idleServerCores: cpu.idleServerCores,
    clientCores: cpu.clientCores,
    otherCores: cpu.otherCores,
    stealCores: cpu.stealCores,
  };
}

const describeRate = (sample: RateSample) =>
  `${formatCount(sample.savesPerSecond)} saves/s, p50 ${sample.p50Ms.toFixed(1)} p99 ${sample.p99Ms.toFixed(1)} max ${sample.maxMs.toFixed(0)} ms, server ${sample.serverCpuUsPerSave.toFixed(0)} µs/save (${sample.serverCores.toFixed(2)} cores), db ${sample.databaseCpuUsPerSave.toFixed(0)} µs/save, client ${sample.clientCores.toFixed(2)}, other ${sample.otherCores.toFixed(2)}${sample.failed > 0 ? `, ${sample.failed} failed (${statusText(sample.statuses)})` : ''}`;

const describeCeiling = (sample: CeilingSample) =>
  `${formatCount(sample.savesPerSecond)} saves/s, p99 ${sample.p99Ms.toFixed(1)} ms, server ${sample.serverCpuUsPerSave.toFixed(0)} µs/save (${sample.serverCores.toFixed(2)} cores), db ${sample.databaseCpuUsPerSave.toFixed(0)} µs, redis ${sample.redisCpuUsPerSave.toFixed(0)} µs, client ${sample.clientCores.toFixed(2)}, other ${sample.otherCores.toFixed(2)}${sample.failed > 0 ? `, ${sample.failed} failed` : ''}`;

type LostCheck = {
  /** (student, question) pairs with at least one acknowledged save. */
  keys: number;
  matched: number;
  /** Stored value differs from the last acknowledged one, or nothing stored. */
  lost: number;
  /** Differs, but a save after the last acknowledged one failed (it may have landed). */
  undecided: number;
  /** Rows of the checked questions nobody was told were saved. */
  unexpected: number;
  samples: string[];
};

function compareLedger(
  ledger: AckLedger,
  stored: ReadonlyArray<[string, string, unknown]>,
  checkedQuestions: ReadonlySet<string>,
): LostCheck {
  const rows = new Map<string, unknown>();
  for (const [userId, questionId, answer] of stored) {
    if (checkedQuestions.has(questionId)) rows.set(ledgerKey(userId, questionId), answer);
  }
  const result: LostCheck = {
    keys: 0,
    matched: 0,
    lost: 0,
    undecided: 0,
    unexpected: 0,
    samples: [],
  };
  for (const [key, entry] of ledger) {
    if (entry.seq === 0) continue;
    result.keys += 1;
    const has = rows.has(key);
    const same = has && JSON.stringify(rows.get(key)) === JSON.stringify(entry.value);
    rows.delete(key);
    if (same) result.matched += 1;
    else if (entry.uncertain) result.undecided += 1;
    else {
      result.lost += 1;
      if (result.samples.length < 3)
        result.samples.push(
          `${key.replace('\t', ' / ')}: acknowledged ${JSON.stringify(entry.value)}, stored ${has ? JSON.stringify(rows.get(key)) : 'nothing'}`,
        );
    }
  }
  result.unexpected = rows.size;
  return result;
}

type PhaseResult = {
  phase: RatePhase;
  before: RateSample;
  candidate: RateSample;
  after: RateSample;
};

type BackendRun = {
  kind: BackendKind;
  plan: Plan;
  used: Rounds;
  phases: PhaseResult[];
  ceiling: PairRun<CeilingPair>;
  lost: LostCheck;
  client: string;
  setupMs: Record<string, number>;
};

function saversOf(fixtures: Fixtures, kind: SaveTarget['kind']): Saver[] {
  const type = kind === 'text' ? 'short_answer' : 'numeric';
  const targets = fixtures.questions
    .filter((question) => question.type === type)
    .map((question) => ({ questionId: question.id, kind }));
  return fixtures.students.map((student, index) => {
    if (!student.attemptId) throw new Error(`student ${student.id} has no attempt`);
    return {
      index,
      userId: student.id,
      token: student.token,
      attemptId: student.attemptId,
      targets,
    };
  });
}

/** The ceiling's requests: single-choice answers, consecutive lines for different students. */
function ceilingLines(fixtures: Fixtures): string[] {
  const choices = fixtures.questions
    .filter((question) => question.type === 'single_choice')
    .slice(0, 4);
  const lines: string[] = [];
  choices.forEach((question, round) => {
    fixtures.students.forEach((student, index) => {
      const answer = question.optionIds[(index + round) % question.optionIds.length];
      lines.push(
        `/api/v1/attempts/${student.attemptId}/answers\t${student.token}\t${JSON.stringify({ questionId: question.id, answer })}`,
      );
    });
  });
  return lines;
}

async function runBackend(
  kind: BackendKind,
  context: BenchContext,
  useWrk: boolean,
): Promise<BackendRun> {
  const plan = PLANS[kind];
  const asked = rounds(PROTOCOL_ROUNDS);
  const used: Rounds =
    kind === 'postgres'
      ? asked
      : {
          warmups: Math.min(asked.warmups, plan.rounds.warmups),
          pairs: Math.min(asked.pairs, plan.rounds.pairs),
        };
  const backend: Backend = await openBackend(kind, 'autosave');
  const children: Child[] = [];
  const connections: StudentConnections[] = [];
  try {
    context.log(`${kind}: creating ${STUDENTS} students, a quiz and an attempt each`);
    const fixtures = await backend.fixtures.setup({
      tag: randomUUID().slice(0, 8),
      students: STUDENTS,
      quizzes: 1,
      quiz: { title: 'Exam', durationMinutes: 60, shuffleQuestions: true, shuffleOptions: true },
      startAttempts: true,
    });
    const quizId = fixtures.quizIds[0]!;
    const referencePort = await freePort();
    const reference = await backend.startReference(referencePort, fixtures.studentPaper);
    children.push(reference);
    const assayPort = await freePort();
    const assay = await backend.startAssay(assayPort);
    children.push(assay);
    const probe = (server: Child, idle: Child): Probe => ({
      server,
      idle,
      database: backend.database,
      redis: backend.redis,
    });

    const lines = ceilingLines(fixtures);
    const files = writeWrkFiles(backend.dir, lines);
    const ceilingRound = async (server: Child, idle: Child, port: number) => {
      const { result, cpu } = await measured(probe(server, idle), () =>
        useWrk
          ? runWrk({ port, connections: CEILING_CONNECTIONS, durationMs: plan.ceilingMs, files })
          : runNodeClosedLoop({
              port,
              connections: CEILING_CONNECTIONS,
              durationMs: plan.ceilingMs,
              lines,
            }),
      );
      return ceilingSample(result, cpu);
    };
    const ceilingPair = async (): Promise<CeilingPair> => {
      const referenceSample = await ceilingRound(reference, assay, referencePort);
      await sleep(PAUSE_MS / 2);
      const candidateSample = await ceilingRound(assay, reference, assayPort);
      await sleep(PAUSE_MS / 2);
      return { reference: referenceSample, candidate: candidateSample };
    };
    const logCeiling = (label: string, pair: CeilingPair) =>
      context.log(
        `${kind} ceiling ${label}: reference ${describeCeiling(pair.reference)} | assay ${describeCeiling(pair.candidate)}`,
      );

    // 1. Warm-ups (discarded): closed-loop rounds on both servers.
    await runPairs<CeilingPair>({
      rounds: { warmups: used.warmups, pairs: 0 },
      protocol: PROTOCOL_ROUNDS,
      maxExtra: 0,
      run: ceilingPair,
      noise: () => 0,
      log: logCeiling,
    });

    // 2. Think-time phases: 2,000 open keep-alive connections per server.
    const ledger: AckLedger = new Map();
    const phases: PhaseResult[] = [];
    for (const phase of plan.phases) {
      const savers = saversOf(fixtures, phase.kind);
      const candidateConnections = new StudentConnections(assayPort, savers, ledger);
      const referenceConnections = new StudentConnections(referencePort, savers);
      connections.push(candidateConnections, referenceConnections);
      const failedOpen =
        (await candidateConnections.open(() => '/health')) +
        (await referenceConnections.open(() => '/health'));
      if (failedOpen > 0) throw new Error(`${failedOpen} connections did not open with a 200`);
      const rate = async (
        target: StudentConnections,
        server: Child,
        idle: Child,
        durationMs: number,
      ) => {
        const { result, cpu } = await measured(probe(server, idle), () =>
          target.thinkLoop({ durationMs, thinkMs: phase.thinkMs, timeoutMs: TIMEOUT_MS }),
        );
        return rateSample(result, cpu);
      };
      const before = await rate(referenceConnections, reference, assay, phase.bracketMs);
      await sleep(PAUSE_MS);
      const candidate = await rate(candidateConnections, assay, reference, phase.durationMs);
      await sleep(PAUSE_MS);
      const after = await rate(referenceConnections, reference, assay, phase.bracketMs);
      await sleep(PAUSE_MS);
      context.log(
        `${kind} ${phase.name}: reference ${describeRate(before)} / ${describeRate(after)} | assay ${describeRate(candidate)}`,
      );
      phases.push({ phase, before, candidate, after });
      candidateConnections.close();
      referenceConnections.close();
    }

    // 3. The ceiling: interleaved closed-loop pairs.
    const ceiling = await runPairs<CeilingPair>({
      rounds: { warmups: 0, pairs: used.pairs },
      protocol: PROTOCOL_ROUNDS,
      maxExtra: plan.maxExtra,
      run: ceilingPair,
      noise: (pair) => Math.max(pair.reference.otherCores, pair.candidate.otherCores),
      log: logCeiling,
    });

    for (const child of children.splice(0)) await stop(child).catch(() => undefined);
    // After the server has stopped (the embedded database lives in its process).
    const stored = await backend.fixtures.answers(quizId);
    const checked = new Set(
      plan.phases.flatMap((phase) =>
        saversOf(fixtures, phase.kind)[0]!.targets.map((target) => target.questionId),
      ),
    );
    const lost = compareLedger(ledger, stored, checked);
    context.log(
      `${kind} answers: ${lost.keys} acknowledged, ${lost.matched} match, ${lost.lost} lost, ${lost.undecided} undecided, ${lost.unexpected} unexpected`,
    );
    return {
      kind,
      plan,
      used,
      phases,
      ceiling,
      lost,
      client: useWrk ? 'wrk' : 'node',
      setupMs: fixtures.timings,
    };
  } finally {
    for (const connection of connections) connection.close();
    for (const child of children) await stop(child).catch(() => undefined);
    await backend.close();
  }
}

type Met = {
  p99: boolean[];
  errors: boolean;
  lost: boolean;
  throughput: boolean;
  cpu: boolean;
};

function backendText(result: BackendRun): { text: string; met: Met } {
  const ms = (value: number) => formatMs(value, 1);
  const us = (value: number) => `${value.toFixed(0)} µs`;
  const rateRows: Row[] = [];
  const met: Met = { p99: [], errors: true, lost: false, throughput: false, cpu: false };
  for (const { phase, before, candidate, after } of result.phases) {
    const ref = (key: keyof RateSample) => median([before[key] as number, after[key] as number]);
    const row = (
      metric: string,
      key: keyof RateSample,
      format: (value: number) => string,
      target = '—',
      ok = '—',
    ): Row => ({
      metric: `${phase.name}: ${metric}`,
      reference: `${format(ref(key))} (${format(before[key] as number)} before, ${format(after[key] as number)} after)`,
      candidate: format(candidate[key] as number),
      ratio: ((candidate[key] as number) / ref(key)).toFixed(2),
      target,
      met: ok,
    });
    const p99Met = candidate.p99Ms < phase.p99TargetMs;
    const errorsMet = candidate.failed === 0;
    met.p99.push(p99Met);
    met.errors &&= errorsMet;
    rateRows.push(
      {
        ...row('saves answered 200 per second', 'savesPerSecond', formatCount),
        target: `≈${formatCount((STUDENTS * 1000) / phase.thinkMs)} offered`,
      },
      row('p99 latency', 'p99Ms', ms, `< ${phase.p99TargetMs} ms absolute`, yesNo(p99Met)),
      row('p50 latency', 'p50Ms', ms),
      row('p99.9 latency', 'p999Ms', ms),
      row('max latency', 'maxMs', ms),
      {
        metric: `${phase.name}: failed saves (not 200, or no answer within ${TIMEOUT_MS / 1000} s)`,
        reference: formatCount(before.failed + after.failed),
        candidate: `${formatCount(candidate.failed)}${candidate.failed > 0 ? ` (${statusText(candidate.statuses)})` : ''}`,
        ratio: '—',
        target: '0',
        met: yesNo(errorsMet),
      },
      row('server CPU per save', 'serverCpuUsPerSave', us),
      ...(result.kind === 'postgres'
        ? [
            row('PostgreSQL CPU per save', 'databaseCpuUsPerSave', us),
            // The reference uses no Redis: what shows there is other clients of that Redis.
            { ...row('Redis CPU per save', 'redisCpuUsPerSave', us), ratio: '—' },
          ]
        : []),
      { ...row('load generator CPU, cores', 'clientCores', (v) => v.toFixed(2)), ratio: '—' },
      { ...row('other processes, cores (noise)', 'otherCores', (v) => v.toFixed(2)), ratio: '—' },
    );
  }
  const { lost } = result;
  met.lost = lost.lost === 0 && lost.undecided === 0 && lost.unexpected === 0 && lost.keys > 0;

  const run = result.ceiling;
  const reference = run.used.map((pair) => pair.reference);
  const candidate = run.used.map((pair) => pair.candidate);
  type Key = {
    [K in keyof CeilingSample]: CeilingSample[K] extends number ? K : never;
  }[keyof CeilingSample];
  const pick = (samples: readonly CeilingSample[], key: Key) => samples.map((s) => s[key]);
  const ratio = (key: Key) => spread(ratios(pick(reference, key), pick(candidate, key)));
  const row = (
    metric: string,
    key: Key,
    format: (value: number) => string,
    target = '—',
    ok = '—',
  ): Row => ({
    metric,
    reference: format(median(pick(reference, key))),
    candidate: format(median(pick(candidate, key))),
    ratio: formatRatio(ratio(key)),
    target,
    met: ok,
  });
  met.throughput = ratio('savesPerSecond').median >= THROUGHPUT_TARGET;
  met.cpu = ratio('serverCpuUsPerSave').median <= CPU_TARGET;
  const ceilingFailed = run.all.reduce((sum, pair) => sum + pair.candidate.failed, 0);
  const ceilingRows: Row[] = [
    row(
      'saves per second (closed loop, higher is better)',
      'savesPerSecond',
      formatCount,
      `ratio ≥ ${THROUGHPUT_TARGET}`,
      yesNo(met.throughput),
    ),
    row(
      'server CPU per save (`/proc/<pid>/stat`)',
      'serverCpuUsPerSave',
      us,
      `ratio ≤ ${CPU_TARGET}`,
      yesNo(met.cpu),
    ),
    row(
      'saves per server CPU-second (client-independent capacity)',
      'savesPerServerCpuSecond',
      formatCount,
    ),
    row('p99 latency', 'p99Ms', ms),
    row('p50 latency', 'p50Ms', ms),
    ...(result.kind === 'postgres'
      ? [
          row('PostgreSQL CPU per save', 'databaseCpuUsPerSave', us),
          { ...row('Redis CPU per save', 'redisCpuUsPerSave', us), ratio: '—' },
        ]
      : []),
    row('server CPU, cores', 'serverCores', (v) => v.toFixed(2)),
    { ...row('load generator CPU, cores', 'clientCores', (v) => v.toFixed(2)), ratio: '—' },
    {
      ...row('other processes on the machine, cores (noise)', 'otherCores', (v) => v.toFixed(2)),
      ratio: '—',
    },
  ];
  const perPair = (key: Key) =>
    run.all
      .map(
        (pair) =>
          `${(pair.candidate[key] / pair.reference[key]).toFixed(2)}${run.clean.includes(pair) ? '' : '*'}`,
      )
      .join(', ');
  const setup = Object.entries(result.setupMs)
    .map(([step, value]) => `${step} ${(value / 1000).toFixed(1)} s`)
    .join(', ');
  const phaseLine = result.phases
    .map(
      ({ phase }) =>
        `${phase.name}: think time ${phase.thinkMs} ms × U(0.5, 1.5), Assay ${phase.durationMs / 1000} s, reference ${phase.bracketMs / 1000} s before and ${phase.bracketMs / 1000} s after (its figures are the median of the two), answers to the ${phase.kind === 'text' ? '4 short-answer questions (text unique per student, question and save)' : '2 numeric questions (a number unique per student and save)'}`,
    )
    .join('; ');
  const text = [
    `**Think-time phases.** ${phaseLine}. One run each: no pairs (see the note below).`,
    '',
    resultsTable(rateRows),
    '',
    `**Lost answers**: ${formatCount(lost.keys)} (student, question) pairs had at least one acknowledged save in the think-time phases; afterwards \`attempt_answers\` holds exactly the last acknowledged value for ${formatCount(lost.matched)} of them, a different or no value for ${formatCount(lost.lost)}${lost.undecided > 0 ? `, and ${formatCount(lost.undecided)} differ after a failed save (undecided)` : ''}; ${formatCount(lost.unexpected)} stored answers to those questions were never acknowledged. Zero lost: ${yesNo(met.lost)}.${lost.samples.length > 0 ? ` Examples: ${lost.samples.join('; ')}.` : ''}`,
    '',
    `**Ceiling** (closed loop, ${CEILING_CONNECTIONS} keep-alive connections, no think time, ${result.plan.ceilingMs / 1000} s per round, ${result.client === 'wrk' ? '`wrk -t1`' : 'the Node closed-loop client (wrk missing)'}, single-choice answers round-robin over the students). ${pairsNote(run, result.used, result.kind === 'postgres' ? PROTOCOL_ROUNDS : result.used, result.plan.maxExtra)} The warm-up rounds ran before the think-time phases.`,
    '',
    resultsTable(ceilingRows),
    '',
    `Failed saves in the ceiling's measured rounds: Assay ${formatCount(ceilingFailed)}. Per-pair ratios (* = set aside as noisy): throughput ${perPair('savesPerSecond')}; server CPU per save ${perPair('serverCpuUsPerSave')}. Setup (not measured): ${setup}.`,
  ].join('\n');
  return { text, met };
}

export const autosaveBenchmark: Benchmark = {
  name: 'autosave',
  summary: '2,000 students autosaving at 2k and 4k saves/s, lost-answer check, closed-loop ceiling',
  async run(context: BenchContext): Promise<Section> {
    const version = wrkVersion();
    if (!version) context.log(`${WRK_MISSING} Falling back to the Node closed-loop client.`);
    const postgres = await runBackend('postgres', context, version !== undefined);
    const pglite = await runBackend('pglite', context, version !== undefined);
    const pg = backendText(postgres);
    const lite = backendText(pglite);
    const body = [
      '## autosave',
      '',
      runLine(context.env, context.command),
      '',
      '`POST /api/v1/attempts/{id}/answers` with `{ questionId, answer }` (last write wins) by',
      `${formatCount(STUDENTS)} students, each with an active attempt at a published 60-minute quiz of 20 questions`,
      '(12 single choice, 2 multiple choice, 4 short answer, 2 numeric), started before the',
      "server runs by `bench/lib/assay-fixtures.ts` through Assay's own code (students inserted",
      'with the users repository and one shared argon2id hash, tokens signed with',
      '`accessTokens.sign`, attempts started with `attempts.start`; no login).',
      '',
      '**Assay**: `node bin/assay.mjs serve` (backlog 4096, workers in-process, `LOG_LEVEL=warn`),',
      '`JWT_SECRET` shared with the fixture process, `RATE_LIMIT_USER_PER_MINUTE` and',
      '`RATE_LIMIT_ANONYMOUS_PER_MINUTE` raised to 10,000,000 so the limiter (still consulted on',
      'every request) never answers 429: the ceiling sends far more than the default 600 saves',
      'per student per minute, and every student shares the one IP of the load generator.',
      'Saves read in the same event-loop turn, or arriving while four statements are in flight, go',
      'to the database together as one statement and one commit (group commit,',
      '`attempts.repository.ts`); each is answered after',
      'its commit, so the lost-answer check holds it to the same promise as the reference.',
      '**Reference** (`bench/lib/reference-server.ts`): bare Fastify, backlog 4096, same path',
      'and body, one `INSERT … ON CONFLICT (attempt_id, question_id) DO UPDATE` into a copy of',
      '`attempt_answers` (same columns and primary key) on the same kind of database, answering',
      '`{ questionId, savedAt }`; no auth, no rate limit, no check that the attempt is active.',
      '',
      '**Load generators.** Think-time phases: a client in the harness process keeps one',
      'keep-alive TCP connection per student (opened before the phase, 2,000 per server; HTTP/1.1',
      'written and read by hand, `bench/lib/students.ts`, several times cheaper than `node:http`);',
      'each student saves, waits a think time drawn from U(0.5, 1.5) × the mean after the answer,',
      'and saves again. The first save waits the rest of a think time in progress (drawn from',
      'the equilibrium residual of that think time, `bench/lib/think-time.ts`), so the saves',
      'arrive at the stated rate from the first moment; a uniform share of one mean think time',
      'would offer about 1.5× that rate for half a think time. Every save carries a',
      'value unique per (student, question, sequence), and the client records the last',
      'acknowledged (200) value of each (student, question); after the run the database is read',
      '(after the server stopped) and compared. With think time the loop is closed: if the server',
      'falls behind, the students wait and the achieved rate drops below the offered one, which',
      'the saves-per-second row shows. Ceiling: `wrk -t1` (one thread: at most one of the two',
      'cores, and far less CPU per request than a Node client), a Lua script sending',
      'prepared requests round-robin.',
      '',
      '### PostgreSQL and Redis',
      '',
      `Assay on ${describeBackend('postgres')}.`,
      '',
      pg.text,
      '',
      '### PGlite (context)',
      '',
      `Assay on ${describeBackend('pglite')}.`,
      'The reference here is the same Fastify server on PGlite in its own process. Shorter and',
      'fewer runs than on PostgreSQL; indicative only.',
      '',
      lite.text,
      '',
      '**Why one run per think-time phase.** The protocol asks for 5 interleaved pairs; five',
      'pairs of 40 s runs would take over 7 minutes for one phase. The ratio targets (ceiling',
      'throughput, CPU per save) come from the interleaved ceiling pairs; the think-time phases',
      'have absolute targets (p99, errors, lost answers) that need one long sustained run, and',
      'the reference runs right before and after it bracket the machine’s drift during it.',
      '',
      `Targets on PostgreSQL: p99 at ≈2,000 saves/s < 50 ms ${yesNo(pg.met.p99[0] ?? false)}; p99 at ≈4,000 saves/s < 100 ms ${yesNo(pg.met.p99[1] ?? false)}; no failed saves ${yesNo(pg.met.errors)}; zero lost answers ${yesNo(pg.met.lost)}; ceiling ≥ ${THROUGHPUT_TARGET}× the reference ${yesNo(pg.met.throughput)}; server CPU per save ≤ ${CPU_TARGET}× the reference ${yesNo(pg.met.cpu)}. PGlite (context): zero lost answers ${yesNo(lite.met.lost)}.`,
    ].join('\n');
    return { name: 'autosave', body };
  },
};
