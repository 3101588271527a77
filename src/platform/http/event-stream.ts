import type { FastifyReply } from 'fastify';

/** Past this much unsent data a client is too slow to follow: it is dropped, not waited for. */
const MAX_BUFFERED_BYTES = 256 * 1024;
/** Comments this often keep proxies from closing an idle stream. */
export const HEARTBEAT_MS = 15_000;

/**
 * One event-bus subscription per process, fanned out to the streams open here by a key (a
 * submission, a board). The bus carries events from other processes (Redis pub/sub), so a
 * stream follows its subject wherever the change happened.
 */
export function createFanOut<E>(keyOf: (event: E) => string) {
  const listeners = new Map<string, Set<(event: E) => void>>();
  return {
    deliver(event: E) {
      for (const listener of listeners.get(keyOf(event)) ?? []) listener(event);
    },
    listen(key: string, listener: (event: E) => void) {
      let set = listeners.get(key);
      if (!set) {
        set = new Set();
        listeners.set(key, set);
      }
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(key);
      };
    },
    /** Keys with at least one listener. */
    keys: () => [...listeners.keys()],
    size: () => [...listeners.values()].reduce((sum, set) => sum + set.size, 0),
  };
}

export type FanOut<E> = ReturnType<typeof createFanOut<E>>;

export type EventStream = ReturnType<typeof openEventStream>;

/**
 * A Server-Sent Events response on a hijacked reply. Writes never wait: a client whose unsent
 * data passes MAX_BUFFERED_BYTES is dropped, so one slow reader never holds up the others.
 */
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
