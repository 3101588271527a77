import { EventEmitter } from 'node:events';
import type { Logger } from '../logger/logger.ts';

/** Topic → payload. Events are facts published after a commit ("submission judged"). */
export type EventMapShape = Record<string, Record<string, unknown>>;

export type EventHandler<P> = (payload: P) => void | Promise<void>;

export type EventBus<E extends EventMapShape> = {
  readonly kind: 'memory' | 'redis';
  publish<K extends keyof E & string>(topic: K, payload: E[K]): Promise<void>;
  /** Resolves once the subscription is live; the returned function ends it. */
  subscribe<K extends keyof E & string>(
    topic: K,
    handler: EventHandler<E[K]>,
  ): Promise<() => Promise<void>>;
  close(): Promise<void>;
};

export function safeDeliver<P>(
  logger: Logger,
  topic: string,
  handler: EventHandler<P>,
  payload: P,
) {
  // A failing subscriber is its own problem: the publisher and other subscribers carry on.
  try {
    const result = handler(payload);
    if (result instanceof Promise) {
      result.catch((error: unknown) => logger.warn({ err: error, topic }, 'event handler failed'));
    }
  } catch (error) {
    logger.warn({ err: error, topic }, 'event handler failed');
  }
}

/** In-process bus: subscribers in this process only. */
export function createMemoryEventBus<E extends EventMapShape>(options: {
  logger: Logger;
}): EventBus<E> {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    kind: 'memory',
    async publish(topic, payload) {
      // Copy and deliver on a later tick, as Redis would: no shared objects, no re-entrancy.
      const copy = structuredClone(payload);
      setImmediate(() => emitter.emit(topic, copy));
    },
    async subscribe(topic, handler) {
      const listener = (payload: E[typeof topic]) =>
        safeDeliver(options.logger, topic, handler, payload);
      emitter.on(topic, listener);
      return async () => {
        emitter.off(topic, listener);
      };
    },
    async close() {
      emitter.removeAllListeners();
    },
  };
}
