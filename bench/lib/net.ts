import http from 'node:http';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Child } from './children.ts';

export const HOST = '127.0.0.1';

/** A port nothing listens on: the kernel picks one for a listen on port 0, which is then closed. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host: HOST }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not read the address of a port-0 listener'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

export type Response = { status: number; body: string };

/** One request on a fresh connection (no keep-alive), the way a probe or a first visitor arrives. */
export function send(
  port: number,
  options: {
    method?: string;
    path: string;
    body?: string;
    headers?: Record<string, string>;
    timeoutMs?: number;
  },
): Promise<Response> {
  const { method = 'GET', path, body, timeoutMs = 10_000 } = options;
  const headers = {
    ...options.headers,
    ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}),
  };
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: HOST, port, path, method, headers, agent: false, timeout: timeoutMs },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`${method} ${path} timed out`)));
    request.on('error', reject);
    request.end(body);
  });
}

export const get = (port: number, path: string, timeoutMs = 10_000) =>
  send(port, { path, timeoutMs });

/**
 * Polls `GET path` every `intervalMs` until it answers 200 and returns `performance.now()` at
 * that moment. Fails as soon as `child` exits, or after `timeoutMs`.
 */
export async function waitForOk(
  child: Child,
  port: number,
  path: string,
  options: { intervalMs?: number; timeoutMs?: number } = {},
): Promise<{ at: number; body: string }> {
  const intervalMs = options.intervalMs ?? 10;
  const deadline = performance.now() + (options.timeoutMs ?? 60_000);
  let last = 'no answer yet';
  while (performance.now() < deadline) {
    if (child.hasExited()) {
      throw new Error(`${child.name} exited before ${path} answered 200:\n${child.output()}`);
    }
    try {
      const response = await get(port, path);
      if (response.status === 200) return { at: performance.now(), body: response.body };
      last = `HTTP ${response.status}: ${response.body.slice(0, 200)}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await sleep(intervalMs);
  }
  throw new Error(`${child.name}: ${path} did not answer 200 in time (last: ${last})`);
}
