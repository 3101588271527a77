import { describe, expect, it } from 'vitest';
import { createFairPool, PoolFullError } from './sandbox.pool.ts';

const gate = () => {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
};

describe('the fair pool', () => {
  it('runs at most `size` at once and queues the rest', async () => {
    const pool = createFairPool({ size: 2, maxQueued: 10 });
    const gates = [gate(), gate(), gate()];
    let peak = 0;
    let now = 0;
    const done = gates.map((g, index) =>
      pool.run('a', async () => {
        now++;
        peak = Math.max(peak, now);
        await g.opened;
        now--;
        return index;
      }),
    );
    await Promise.resolve();
    expect(pool.stats()).toEqual({ size: 2, running: 2, queued: 1 });
    for (const g of gates) g.open();
    expect(await Promise.all(done)).toEqual([0, 1, 2]);
    expect(peak).toBe(2);
    expect(pool.stats()).toEqual({ size: 2, running: 0, queued: 0 });
  });

  it('serves owners in turn: a single run is not stuck behind another owner’s burst', async () => {
    const pool = createFairPool({ size: 1, maxQueued: 100 });
    const order: string[] = [];
    const blocker = gate();
    const first = pool.run('burst', async () => {
      await blocker.opened;
      order.push('burst-0');
    });
    const burst = Array.from({ length: 5 }, (_, index) =>
      pool.run('burst', async () => {
        order.push(`burst-${index + 1}`);
      }),
    );
    const single = pool.run('single', async () => {
      order.push('single');
    });
    blocker.open();
    await Promise.all([first, ...burst, single]);
    expect(order.indexOf('single')).toBe(2);
  });

  it('refuses at once when the queue is full, and keeps serving afterwards', async () => {
    const pool = createFairPool({ size: 1, maxQueued: 1 });
    const blocker = gate();
    const running = pool.run('a', () => blocker.opened);
    const waiting = pool.run('b', async () => 'waited');
    await expect(pool.run('c', async () => 'never')).rejects.toBeInstanceOf(PoolFullError);
    blocker.open();
    await running;
    expect(await waiting).toBe('waited');
    expect(await pool.run('c', async () => 'now')).toBe('now');
  });

  it('frees the slot when the work fails', async () => {
    const pool = createFairPool({ size: 1, maxQueued: 5 });
    await expect(pool.run('a', async () => Promise.reject(new Error('boom')))).rejects.toThrow(
      'boom',
    );
    expect(await pool.run('a', async () => 1)).toBe(1);
  });
});
