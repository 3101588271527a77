import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { start, waitForExit } from './children.ts';
import { HOST } from './net.ts';
import { REPO_ROOT } from './servers.ts';
import { percentileOfSorted } from './stats.ts';

/**
 * wrk (the Debian package) as a closed-loop load generator: one thread (`-t1`, so it takes one
 * core at most from the two the server shares), a fixed set of keep-alive connections, each
 * sending the next request when the previous answer is in. Requests come from a file of
 * `path<TAB>token<TAB>body` lines, formatted once at start and sent round-robin.
 */

export const WRK_MISSING =
  'wrk is not installed: `apt-get install -y wrk` (Debian/Ubuntu package `wrk`) for the autosave ceiling.';

export function wrkVersion(): string | undefined {
  try {
    const output = execFileSync('wrk', ['--version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return output.split('\n')[0]?.trim();
  } catch (error) {
    // `wrk --version` prints its banner and exits 1.
    const output = (error as { stdout?: string }).stdout ?? '';
    return output.startsWith('wrk') ? output.split('\n')[0]?.trim() : undefined;
  }
}

const SCRIPT = `
local requests = {}
local count = 0
local index = 0

function init(args)
  local host = args[2]
  for line in io.lines(args[1]) do
    local path, token, body = line:match("^([^\\t]*)\\t([^\\t]*)\\t(.*)$")
    count = count + 1
    requests[count] = wrk.format("POST", path, {
      ["Host"] = host,
      ["Authorization"] = "Bearer " .. token,
      ["Content-Type"] = "application/json",
    }, body)
  end
end

function request()
  index = index % count + 1
  return requests[index]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50Us":%d,"p99Us":%d,"maxUs":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
`;

export type WrkResult = {
  requests: number;
  durationMs: number;
  /** Socket errors of each kind and answers with status >= 400. */
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
};

/** Writes the Lua script and the request file under `dir`; returns the script path. */
export function writeWrkFiles(
  dir: string,
  lines: readonly string[],
): { script: string; data: string } {
  const script = join(dir, 'requests.lua');
  const data = join(dir, 'requests.tsv');
  writeFileSync(script, SCRIPT);
  writeFileSync(data, `${lines.join('\n')}\n`);
  return { script, data };
}

export async function runWrk(options: {
  port: number;
  connections: number;
  durationMs: number;
  files: { script: string; data: string };
}): Promise<WrkResult> {
  const child = start(
    'wrk',
    'wrk',
    [
      '-t1',
      `-c${options.connections}`,
      `-d${Math.round(options.durationMs / 1000)}s`,
      '--timeout',
      '10s',
      '-s',
      options.files.script,
      `http://${HOST}:${options.port}`,
      '--',
      options.files.data,
      `${HOST}:${options.port}`,
    ],
    { cwd: REPO_ROOT, env: process.env },
  );
  const exit = await waitForExit(child, options.durationMs + 30_000);
  await child.closed;
  const line = child
    .output()
    .split('\n')
    .find((text) => text.startsWith('WRK '));
  if (exit.code !== 0 || !line) {
    throw new Error(`wrk failed (exit ${exit.code ?? exit.signal}):\n${child.output()}`);
  }
  const raw = JSON.parse(line.slice(4)) as {
    requests: number;
    durationUs: number;
    connect: number;
    read: number;
    write: number;
    status: number;
    timeout: number;
    p50Us: number;
    p99Us: number;
    maxUs: number;
  };
  const durationMs = raw.durationUs / 1000;
  return {
    requests: raw.requests,
    durationMs,
    errors: {
      connect: raw.connect,
      read: raw.read,
      write: raw.write,
      status: raw.status,
      timeout: raw.timeout,
    },
    requestsPerSecond: (raw.requests / durationMs) * 1000,
    p50Ms: raw.p50Us / 1000,
    p99Ms: raw.p99Us / 1000,
    maxMs: raw.maxUs / 1000,
  };
}

export const wrkErrors = (result: WrkResult) =>
  Object.values(result.errors).reduce((sum, count) => sum + count, 0);

/**
 * The fallback when wrk is missing: the same requests round-robin from a closed-loop Node client
 * in the harness process (`node:http`, one keep-alive Agent). It costs the shared machine more
 * CPU per request than wrk, so ceilings measured with it are lower.
 */
export async function runNodeClosedLoop(options: {
  port: number;
  connections: number;
  durationMs: number;
  lines: readonly string[];
}): Promise<WrkResult> {
  const agent = new http.Agent({
    keepAlive: true,
    maxSockets: options.connections,
    maxFreeSockets: options.connections,
  });
  const requests = options.lines.map((line) => {
    const [path = '', token = '', body = ''] = line.split('\t');
    return { path, token, body: Buffer.from(body) };
  });
  const latencies: number[] = [];
  const errors = { connect: 0, read: 0, write: 0, status: 0, timeout: 0 };
  let next = 0;
  const startedAt = performance.now();
  const deadline = startedAt + options.durationMs;
  const once = (request: { path: string; token: string; body: Buffer }) =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      const req = http.request(
        {
          agent,
          host: HOST,
          port: options.port,
          method: 'POST',
          path: request.path,
          headers: {
            authorization: `Bearer ${request.token}`,
            'content-type': 'application/json',
            'content-length': String(request.body.length),
          },
        },
        (res) => {
          res.resume();
          res.once('end', () => {
            latencies.push(performance.now() - started);
            if ((res.statusCode ?? 500) >= 400) errors.status += 1;
            resolve();
          });
          res.once('error', () => {
            errors.read += 1;
            resolve();
          });
        },
      );
      req.once('error', () => {
        errors.connect += 1;
        resolve();
      });
      req.end(request.body);
    });
  const loop = async () => {
    while (performance.now() < deadline) {
      const request = requests[next % requests.length]!;
      next += 1;
      await once(request);
    }
  };
  try {
    await Promise.all(Array.from({ length: options.connections }, loop));
  } finally {
    agent.destroy();
  }
  const durationMs = performance.now() - startedAt;
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: latencies.length,
    durationMs,
    errors,
    requestsPerSecond: (latencies.length / durationMs) * 1000,
    p50Ms: percentileOfSorted(sorted, 0.5),
    p99Ms: percentileOfSorted(sorted, 0.99),
    maxMs: sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN,
  };
}
