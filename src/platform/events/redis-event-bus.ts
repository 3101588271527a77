import type { Logger } from '../logger/logger.ts';
import type { RedisFactory } from '../redis/redis.ts';
import { type EventBus, type EventHandler, type EventMapShape, safeDeliver } from './event-bus.ts';

/** Redis pub/sub: every process subscribed to a topic gets every event published to it. */
export function createRedisEventBus<E extends EventMapShape>(options: {
  redis: RedisFactory;
  logger: Logger;
}): EventBus<E> {
  const publisher = options.redis.connect({ name: 'assay-events-pub' });
  const subscriber = options.redis.connect({ name: 'assay-events-sub', blocking: true });
  const channelPrefix = `${options.redis.prefix}:events:`;
  const handlers = new Map<string, Set<EventHandler<never>>>();

  subscriber.on('message', (channel: string, message: string) => {
    const topic = channel.slice(channelPrefix.length);
    const set = handlers.get(topic);
    if (!set) return;
    let payload: unknown;
    try {
      payload = JSON.parse(message);
    } catch (error) {
      options.logger.warn({ err: error, topic }, 'dropped an event that is not JSON');
      return;
    }
    for (const handler of set) safeDeliver(options.logger, topic, handler, payload as never);
  });

  return {
    kind: 'redis',
    async publish(topic, payload) {
      await publisher.publish(channelPrefix + topic, JSON.stringify(payload));
    },
    async subscribe(topic, handler) {
      let set = handlers.get(topic);
      if (!set) {
        set = new Set();
        handlers.set(topic, set);
        await subscriber.subscribe(channelPrefix + topic);
      }
      set.add(handler as EventHandler<never>);
      return async () => {
        const current = handlers.get(topic);
        if (!current) return;
        current.delete(handler as EventHandler<never>);
        if (current.size === 0) {
          handlers.delete(topic);
          await subscriber.unsubscribe(channelPrefix + topic);
        }
      };
    },
    async close() {
      handlers.clear();
      subscriber.disconnect();
      publisher.disconnect();
    },
  };
}
