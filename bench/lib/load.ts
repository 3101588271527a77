import http from 'node:http';
import { HOST } from './net.ts';
import { percentileOfSorted } from './stats.ts';

export type LoadResult = {
  /** Requests answered 200. */
  ok: number;
  /** Other statuses and transport errors. */
  failed: number;
  elapsedMs: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** CPU the load generator (this process) used, as a fraction of one core. */
  clientCpuCores: number;
};

type Outcome = { ok: boolean; ms: number; status: number | undefined };

/**
 * A closed-loop load generator: `connections` loops over one keep-alive agent, each sending the
 * next request as soon as the previous answer has been read in full, until `durationMs` is up.
 * Latency is from `request()` to the end of the response body. GET without a body unless
 * `method`, `headers` and `body` say otherwise; `onFailure` hears the status of every answer
 * other than 200 (undefined for a transport error).
 */
export async function closedLoop(options: {
  port: number;
  path: string;
  connections: number;
  durationMs: number;
  method?: string;
  headers?: Readonly<Record<string, string>>;
  body?: string;
  onFailure?: (status: number | undefined) => void;
}): Promise<LoadResult> {
  const agent = new http.Agent({
    keepAlive: true,
    maxSockets: options.connections,
    maxFreeSockets: options.connections,
  });
  const body = options.body === undefined ? undefined : Buffer.from(options.body);
  const headers =
    body === undefined
      ? options.headers
      : { ...options.headers, 'content-length': String(body.length) };
  const once = (): Promise<Outcome> =>
    new Promise((resolve) => {
      const started = performance.now();
      const request = http.request(
        {
          agent,
          host: HOST,
          port: options.port,
          path: options.path,
          method: options.method ?? 'GET',
          ...(headers ? { headers } : {}),
        },
        (res) => {
          res.resume();
          res.once('end', () =>
            resolve({
              ok: res.statusCode === 200,
              ms: performance.now() - started,
              status: res.statusCode,
            }),
          );
          res.once('error', () =>
            resolve({ ok: false, ms: performance.now() - started, status: undefined }),
          );
        },
      );
      request.once('error', () =>
        resolve({ ok: false, ms: performance.now() - started, status: undefined }),
      );
      request.end(body);
    });

  const latencies: number[] = [];
  let failed = 0;
  const cpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  const deadline = startedAt + options.durationMs;
  const loop = async () => {
    while (performance.now() < deadline) {
      const outcome = await once();
      if (outcome.ok) {
        latencies.push(outcome.ms);
      } else {
        failed += 1;
        options.onFailure?.(outcome.status);
        // A refused or reset connection fails at once; do not spin on it.
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.connections }, loop));
  } finally {
    agent.destroy();
  }
  const elapsedMs = performance.now() - startedAt;
  const cpu = process.cpuUsage(cpuBefore);
  const sorted = Float64Array.from(latencies).sort();
  return {
    ok: latencies.length,
    failed,
    elapsedMs,
    requestsPerSecond: (latencies.length / elapsedMs) * 1000,
    p50Ms: percentileOfSorted(sorted, 0.5),
    p99Ms: percentileOfSorted(sorted, 0.99),
    maxMs: sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN,
    clientCpuCores: (cpu.user + cpu.system) / 1000 / elapsedMs,
  };
}
