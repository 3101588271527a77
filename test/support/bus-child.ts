/** Subscribes to a topic through Redis in a process of its own and prints what arrives. */
import { createRedisEventBus } from '../../src/platform/events/redis-event-bus.ts';
import { createLogger } from '../../src/platform/logger/logger.ts';
import { createRedisFactory } from '../../src/platform/redis/redis.ts';

const { url, prefix, topic } = JSON.parse(process.argv[2] ?? '{}') as {
  url: string;
  prefix: string;
  topic: string;
};
const logger = createLogger({ level: 'silent' });
const bus = createRedisEventBus<Record<string, Record<string, unknown>>>({
  redis: createRedisFactory({ url, prefix, logger }),
  logger,
});
await bus.subscribe(topic, (payload) => {
  process.stdout.write(`${JSON.stringify({ event: 'received', payload })}\n`);
  if (payload.last === true) void bus.close().then(() => process.exit(0));
});
process.stdout.write(`${JSON.stringify({ event: 'subscribed' })}\n`);
