import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { createMemoryEventBus, type EventBus } from '../src/platform/events/event-bus.ts';
import { createRedisEventBus } from '../src/platform/events/redis-event-bus.ts';
import { createLogger } from '../src/platform/logger/logger.ts';
import { eventually, testRedis } from './support/backends.ts';
import { spawnTsChild } from './support/child-process.ts';

type Events = {
  'submission.judged': { submissionId: string; verdict: string };
  'leaderboard.changed': { quizId: string };
};

const logger = createLogger({ level: 'silent' });

const drivers: Array<{ name: string; make: () => EventBus<Events> }> = [
  { name: 'memory', make: () => createMemoryEventBus<Events>({ logger }) },
];
if (inject('redis')) {
  drivers.push({
    name: 'redis',
    make: () => createRedisEventBus<Events>({ redis: testRedis(logger), logger }),
  });
}

describe.each(drivers)('event bus contract: $name', ({ make }) => {
  let bus: EventBus<Events>;
  beforeEach(() => {
    bus = make();
  });
  afterEach(async () => {
    await bus.close();
  });

  it('delivers an event to every subscriber of its topic, and only of its topic', async () => {
    const first: unknown[] = [];
    const second: unknown[] = [];
    const other: unknown[] = [];
    await bus.subscribe('submission.judged', (payload) => void first.push(payload));
    await bus.subscribe('submission.judged', (payload) => void second.push(payload));
    await bus.subscribe('leaderboard.changed', (payload) => void other.push(payload));
    await bus.publish('submission.judged', { submissionId: 's1', verdict: 'accepted' });
    await eventually(() => (first.length === 1 && second.length === 1 ? true : undefined));
    expect(first).toEqual([{ submissionId: 's1', verdict: 'accepted' }]);
    expect(second).toEqual(first);
    expect(other).toEqual([]);
  });

  it('keeps events in publish order', async () => {
    const seen: string[] = [];
    await bus.subscribe('leaderboard.changed', ({ quizId }) => void seen.push(quizId));
    for (let index = 0; index < 20; index++)
      await bus.publish('leaderboard.changed', { quizId: `q${index}` });
    await eventually(() => (seen.length === 20 ? true : undefined));
    expect(seen).toEqual(Array.from({ length: 20 }, (_, index) => `q${index}`));
  });

  it('stops delivering after unsubscribe', async () => {
    const seen: unknown[] = [];
    const keep: unknown[] = [];
    const unsubscribe = await bus.subscribe(
      'leaderboard.changed',
      (payload) => void seen.push(payload),
    );
    await bus.subscribe('leaderboard.changed', (payload) => void keep.push(payload));
    await bus.publish('leaderboard.changed', { quizId: 'a' });
    await eventually(() => (seen.length === 1 && keep.length === 1 ? true : undefined));
    await unsubscribe();
    await bus.publish('leaderboard.changed', { quizId: 'b' });
    await eventually(() => (keep.length === 2 ? true : undefined));
    expect(seen).toHaveLength(1);
  });

  it('does not let a throwing subscriber stop the others', async () => {
    const seen: unknown[] = [];
    await bus.subscribe('leaderboard.changed', () => {
      throw new Error('subscriber bug');
    });
    await bus.subscribe('leaderboard.changed', async () => {
      throw new Error('async subscriber bug');
    });
    await bus.subscribe('leaderboard.changed', (payload) => void seen.push(payload));
    await bus.publish('leaderboard.changed', { quizId: 'x' });
    await eventually(() => (seen.length === 1 ? true : undefined));
  });

  it('hands subscribers a copy, not the publisher object', async () => {
    const payload = { submissionId: 's2', verdict: 'wrong_answer' };
    let received: Events['submission.judged'] | undefined;
    await bus.subscribe('submission.judged', (event) => {
      received = event;
    });
    await bus.publish('submission.judged', payload);
    await eventually(() => received);
    expect(received).toEqual(payload);
    expect(received).not.toBe(payload);
  });
});

describe.runIf(inject('redis') !== null)('event bus across processes (redis)', () => {
  it('delivers to a subscriber in another process', async () => {
    const redis = testRedis(logger);
    const child = spawnTsChild('test/support/bus-child.ts', {
      url: redis.url,
      prefix: redis.prefix,
      topic: 'leaderboard.changed',
    });
    await child.next('subscribed');
    const bus = createRedisEventBus<
      Events & { 'leaderboard.changed': { quizId: string; last?: boolean } }
    >({ redis, logger });
    try {
      await bus.publish('leaderboard.changed', { quizId: 'q1' });
      await bus.publish('leaderboard.changed', { quizId: 'q2', last: true });
      expect(await child.exited).toBe(0);
      const received = child.messages
        .filter((message) => message.event === 'received')
        .map((message) => message.payload);
      expect(received).toEqual([{ quizId: 'q1' }, { quizId: 'q2', last: true }]);
    } finally {
      child.process.kill();
      await bus.close();
    }
  });
});
