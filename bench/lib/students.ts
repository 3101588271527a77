import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { HOST } from './net.ts';
import { percentileOfSorted } from './stats.ts';
import { firstWait, thinkTime } from './think-time.ts';

/**
 * Load generators that act as students: each student has its own TCP connection, as 2,000
 * browsers would. HTTP/1.1 is written and read by hand on a `net.Socket` (keep-alive, one
 * request at a time, Content-Length or chunked answers): a `node:http` client costs several
 * times more CPU per request, and on two cores every client cycle is taken from the server.
 * Latency is from the request (connect included on a new connection) to the last byte of the
 * answer.
 */

export type Reply = { status: number | undefined; ms: number; body: string };

const HEADER_END = Buffer.from('\r\n\r\n');

type Pending = {
  started: number;
  resolve: (reply: Reply) => void;
  timer: NodeJS.Timeout;
};

export class Connection {
  private socket: net.Socket;
  private pending: Pending | undefined;
  private buffer: Buffer = Buffer.alloc(0);
  /** Times a dead connection was replaced by a new one. */
  reconnects = 0;

  constructor(
    readonly port: number,
    /** Keep answer bodies (the exam start reads them afterwards); otherwise only the status. */
    readonly keepBodies = false,
  ) {
    this.socket = this.connect();
  }

  private connect(): net.Socket {
    const socket = net.connect({ host: HOST, port: this.port });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.finish(undefined, ''));
    socket.on('close', () => this.finish(undefined, ''));
    return socket;
  }

  request(options: {
    method: string;
    path: string;
    token: string;
    body?: string;
    timeoutMs: number;
  }): Promise<Reply> {
    if (this.pending) throw new Error('one request at a time per connection');
    if (this.socket.destroyed) {
      this.reconnects += 1;
      this.buffer = Buffer.alloc(0);
      this.socket = this.connect();
    }
    const body = options.body ?? '';
    const head =
      `${options.method} ${options.path} HTTP/1.1\r\nhost: ${HOST}:${this.port}\r\n` +
      `authorization: Bearer ${options.token}\r\n` +
      (options.body === undefined
        ? '\r\n'
        : `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n`);
    return new Promise((resolve) => {
      const started = performance.now();
      const timer = setTimeout(() => {
        this.finish(undefined, '');
        this.socket.destroy();
      }, options.timeoutMs);
      this.pending = { started, resolve, timer };
      this.socket.write(head + body);
    });
  }

  private finish(status: number | undefined, body: string) {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    pending.resolve({ status, ms: performance.now() - pending.started, body });
  }

  private onData(chunk: Buffer) {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const headerEnd = this.buffer.indexOf(HEADER_END);
    if (headerEnd < 0) return;
    const head = this.buffer.toString('latin1', 0, headerEnd).toLowerCase();
    const status = Number(head.slice(9, 12));
    const start = headerEnd + 4;
    const length = /\r\ncontent-length: *(\d+)/.exec(head);
    let bodyEnd: number;
    let body = '';
    if (length) {
      bodyEnd = start + Number(length[1]);
      if (this.buffer.length < bodyEnd) return;
      if (this.keepBodies) body = this.buffer.toString('utf8', start, bodyEnd);
    } else if (head.includes('\r\ntransfer-encoding: chunked')) {
      const parts: Buffer[] = [];
      let at = start;
      for (;;) {
        const lineEnd = this.buffer.indexOf('\r\n', at);
        if (lineEnd < 0) return;
        const size = Number.parseInt(this.buffer.toString('latin1', at, lineEnd), 16);
        if (this.buffer.length < lineEnd + 2 + size + 2) return;
        if (size === 0) {
          bodyEnd = lineEnd + 4;
          break;
        }
        parts.push(this.buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
      }
      if (this.keepBodies) body = Buffer.concat(parts).toString('utf8');
    } else {
      bodyEnd = start;
    }
    this.buffer = this.buffer.length > bodyEnd ? this.buffer.subarray(bodyEnd) : Buffer.alloc(0);
    this.finish(Number.isInteger(status) ? status : undefined, body);
  }

  close() {
    this.socket.destroy();
  }
}

export type Latencies = {
  count: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
};

export function latencies(values: readonly number[]): Latencies {
  const sorted = Float64Array.from(values).sort();
  return {
    count: sorted.length,
    p50Ms: percentileOfSorted(sorted, 0.5),
    p99Ms: percentileOfSorted(sorted, 0.99),
    p999Ms: percentileOfSorted(sorted, 0.999),
    maxMs: sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN,
  };
}

const statusKey = (status: number | undefined) => (status === undefined ? 'error' : String(status));

function countInto(counts: Record<string, number>, status: number | undefined) {
  const key = statusKey(status);
  counts[key] = (counts[key] ?? 0) + 1;
}

// ---------------------------------------------------------------------------------------------
// Exam start: a burst of students, each on a new connection.

export type BurstStudent = {
  /** When it was launched, from the first launch. */
  launchedMs: number;
  start: Reply;
  get?: Reply;
  /** The attempt id the start answered with. */
  attemptId?: string;
};

export type BurstResult = {
  students: BurstStudent[];
  /** First launch to the last answer read. */
  makespanMs: number;
  /** How late the last launch was against its schedule (client lag). */
  launchLagMs: number;
  clientCpuSeconds: number;
};

const ATTEMPT_ID = /^\{"id":"([^"]+)"/;

/**
 * `tokens.length` students arrive evenly spread over `spreadMs`; each opens a new connection,
 * POSTs `startPath`, and when the answer is 2xx GETs `/api/v1/attempts/{id}` on the same
 * connection (the attempt with its questions, as a reload would fetch it), then closes it.
 * Bodies are kept and parsed by the caller after the burst, so the client spends as little CPU
 * as possible while the server works.
 */
export async function examBurst(options: {
  port: number;
  tokens: readonly string[];
  startPath: string;
  spreadMs: number;
  timeoutMs: number;
}): Promise<BurstResult> {
  const count = options.tokens.length;
  const students: BurstStudent[] = new Array(count);
  const running: Array<Promise<void>> = [];
  const cpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  let lastAnswer = startedAt;
  const student = async (index: number) => {
    const token = options.tokens[index]!;
    const connection = new Connection(options.port, true);
    const launchedMs = performance.now() - startedAt;
    try {
      const start = await connection.request({
        method: 'POST',
        path: options.startPath,
        token,
        timeoutMs: options.timeoutMs,
      });
      const record: BurstStudent = { launchedMs, start };
      students[index] = record;
      const attemptId =
        start.status !== undefined && start.status < 300
          ? ATTEMPT_ID.exec(start.body)?.[1]
          : undefined;
      if (attemptId) {
        record.attemptId = attemptId;
        record.get = await connection.request({
          method: 'GET',
          path: `/api/v1/attempts/${attemptId}`,
          token,
          timeoutMs: options.timeoutMs,
        });
      }
      lastAnswer = Math.max(lastAnswer, performance.now());
    } finally {
      connection.close();
    }
  };
  let launched = 0;
  let launchLagMs = 0;
  while (launched < count) {
    const elapsed = performance.now() - startedAt;
    const due = Math.min(count, Math.floor((elapsed / options.spreadMs) * count) + 1);
    while (launched < due) {
      const scheduled = (launched / count) * options.spreadMs;
      launchLagMs = Math.max(launchLagMs, elapsed - scheduled);
      running.push(student(launched));
      launched += 1;
    }
    if (launched < count) await sleep(1);
  }
  await Promise.all(running);
  const cpu = process.cpuUsage(cpuBefore);
  return {
    students,
    makespanMs: lastAnswer - startedAt,
    launchLagMs,
    clientCpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

// ---------------------------------------------------------------------------------------------
// Autosave: every student on its own keep-alive connection, saving with think time.

export type SaveTarget = { questionId: string; kind: 'text' | 'number' };

export type Saver = {
  index: number;
  userId: string;
  token: string;
  attemptId: string;
  targets: readonly SaveTarget[];
};

/** The last acknowledged value of each (student, question), and whether a later save failed. */
export type AckLedger = Map<string, { value: unknown; seq: number; uncertain: boolean }>;

export const ledgerKey = (userId: string, questionId: string) => `${userId}\t${questionId}`;

export type SavePhase = {
  ok: number;
  statuses: Record<string, number>;
  elapsedMs: number;
  savesPerSecond: number;
  latency: Latencies;
  clientCpuSeconds: number;
};

/** What a student types: unique per (student, question, sequence), about 80 characters. */
const textAnswer = (student: number, question: string, seq: number) =>
  `student ${student} question ${question.slice(0, 8)} save ${seq}: the loop runs n + 1 times because`;

/**
 * One connection per student to one server, opened before a phase and kept, so the phase sees
 * open keep-alive connections, as an exam in progress does.
 */
export class StudentConnections {
  private readonly connections: Connection[];
  private readonly sequences: number[];

  constructor(
    readonly port: number,
    readonly savers: readonly Saver[],
    /** Acknowledgements are recorded here when given (the candidate); the reference skips it. */
    readonly ledger?: AckLedger,
  ) {
    this.connections = savers.map(() => new Connection(port));
    this.sequences = savers.map(() => 0);
  }

  /** Opens every connection (one cheap request each, not measured), a few hundred at a time. */
  async open(path: (saver: Saver) => string): Promise<number> {
    let failed = 0;
    const BATCH = 200;
    for (let start = 0; start < this.savers.length; start += BATCH) {
      await Promise.all(
        this.savers.slice(start, start + BATCH).map(async (saver, offset) => {
          const reply = await this.connections[start + offset]!.request({
            method: 'GET',
            path: path(saver),
            token: saver.token,
            timeoutMs: 30_000,
          });
          if (reply.status !== 200) failed += 1;
        }),
      );
    }
    return failed;
  }

  /**
   * Every student saves, waits `thinkMs` × U(0.5, 1.5) after each answer, and saves again, for
   * `durationMs` (the first save of each after the rest of a think time in progress, so the
   * saves arrive at their steady rate from the start, not in step and not in a burst). Saves
   * go round the student's targets, each value unique.
   */
  async thinkLoop(options: { durationMs: number; thinkMs: number; timeoutMs: number }) {
    const values: number[] = [];
    const statuses: Record<string, number> = {};
    const cpuBefore = process.cpuUsage();
    const startedAt = performance.now();
    const deadline = startedAt + options.durationMs;
    const loop = async (position: number) => {
      const saver = this.savers[position]!;
      const connection = this.connections[position]!;
      await sleep(firstWait(options.thinkMs));
      while (performance.now() < deadline) {
        const seq = this.sequences[position]! + 1;
        this.sequences[position] = seq;
        const target = saver.targets[seq % saver.targets.length]!;
        const value =
          target.kind === 'text'
            ? textAnswer(saver.index, target.questionId, seq)
            : saver.index * 1_000_000 + seq;
        const reply = await connection.request({
          method: 'POST',
          path: `/api/v1/attempts/${saver.attemptId}/answers`,
          token: saver.token,
          body: JSON.stringify({ questionId: target.questionId, answer: value }),
          timeoutMs: options.timeoutMs,
        });
        const key = ledgerKey(saver.userId, target.questionId);
        if (reply.status === 200) {
          values.push(reply.ms);
          this.ledger?.set(key, { value, seq, uncertain: false });
        } else {
          countInto(statuses, reply.status);
          const entry = this.ledger?.get(key);
          this.ledger?.set(key, {
            value: entry?.value,
            seq: entry?.seq ?? 0,
            uncertain: true,
          });
        }
        const remaining = deadline - performance.now();
        if (remaining <= 0) break;
        await sleep(Math.min(remaining, thinkTime(options.thinkMs)));
      }
    };
    await Promise.all(this.savers.map((_, position) => loop(position)));
    const elapsedMs = performance.now() - startedAt;
    const cpu = process.cpuUsage(cpuBefore);
    const phase: SavePhase = {
      ok: values.length,
      statuses,
      elapsedMs,
      savesPerSecond: (values.length / elapsedMs) * 1000,
      latency: latencies(values),
      clientCpuSeconds: (cpu.user + cpu.system) / 1e6,
    };
    return phase;
  }

  /** Connections that had to be opened again (the server closed them). */
  reconnects() {
    return this.connections.reduce((sum, connection) => sum + connection.reconnects, 0);
  }

  close() {
    for (const connection of this.connections) connection.close();
  }
}

export const statusText = (statuses: Record<string, number>) =>
  Object.entries(statuses)
    .map(([status, count]) => `${count}× ${status}`)
    .join(', ');

export const failures = (statuses: Record<string, number>) =>
  Object.values(statuses).reduce((sum, count) => sum + count, 0);
