import type { FastifyReply } from 'fastify';
import type { SubmissionEvent } from './submissions.service.ts';

/** Past this much unsent data a client is too slow to follow: it is dropped, not waited for. */
const MAX_BUFFERED_BYTES = 256 * 1024;
/** Comments this often keep proxies from closing an idle stream. */
export const HEARTBEAT_MS = 15_000;

type Listener = (event: SubmissionEvent) => void;

/**
 * One event-bus subscription per process, fanned out to the streams open here. The bus carries
 * events from workers in other processes (Redis pub/sub), so a stream follows its submission
 * wherever it is judged.
 */
export function createSubmissionFanOut() {
  const listeners = new Map<string, Set<Listener>>();
  return {
    deliver(event: SubmissionEvent) {
      for (const listener of listeners.get(event.submissionId) ?? []) listener(event);
    },
    listen(submissionId: string, listener: Listener) {
      let set = listeners.get(submissionId);
      if (!set) {
        set = new Set();
        listeners.set(submissionId, set);
      }
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(submissionId);
      };
    },
    size: () => [...listeners.values()].reduce((sum, set) => sum + set.size, 0),
  };
}

export type SubmissionFanOut = ReturnType<typeof createSubmissionFanOut>;

/** A Server-Sent Events response on a hijacked reply. */
export function openEventStream(reply: FastifyReply, options: { heartbeatMs?: number } = {}) {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // nginx buffers responses unless told not to.
    'x-accel-buffering': 'no',
  });
  let closed = false;
  const onClose: Array<() => void> = [];
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    for (const callback of onClose.splice(0)) callback();
    raw.end();
  };
  const write = (chunk: string) => {
    if (closed) return;
    raw.write(chunk);
    if (raw.writableLength > MAX_BUFFERED_BYTES) close();
  };
  const heartbeat = setInterval(
    () => write(': keep-alive\n\n'),
    options.heartbeatMs ?? HEARTBEAT_MS,
  );
  heartbeat.unref();
  raw.on('close', close);
  return {
    send(event: string, data: unknown) {
      write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    onClose(callback: () => void) {
      if (closed) callback();
      else onClose.push(callback);
    },
    close,
    get closed() {
      return closed;
    },
  };
}
