import { describe, expect, it } from 'vitest';
import { createBatcher } from './batcher.ts';

/** A run whose batches finish only when the test says so. */
function controlledRun() {
  const batches: { inputs: number[]; finish: (error?: Error) => void }[] = [];
  const run = (inputs: number[]) =>
    new Promise<number[]>((resolve, reject) => {
      batches.push({
        inputs,
        finish: (error) => (error ? reject(error) : resolve(inputs.map((input) => input * 10))),
      });
    });
  return { run, batches };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('the batcher (group commit)', () => {
  it('runs a lone call at once, and the calls made meanwhile together next', async () => {
    const { run, batches } = controlledRun();
    const call = createBatcher({ run, maxBatch: 100, concurrency: 1 });
    const first = call(1);
    await tick();
    expect(batches.map((batch) => batch.inputs)).toEqual([[1]]);
    const rest = [2, 3, 4].map(call);
    await tick();
    expect(batches).toHaveLength(1); // waiting for the one in flight
    batches[0]?.finish();
    expect(await first).toBe(10);
    await tick();
    expect(batches.map((batch) => batch.inputs)).toEqual([[1], [2, 3, 4]]);
    batches[1]?.finish();
    expect(await Promise.all(rest)).toEqual([20, 30, 40]);
  });

  it('keeps batches to maxBatch and runs up to `concurrency` at once', async () => {
    const { run, batches } = controlledRun();
    const call = createBatcher({ run, maxBatch: 2, concurrency: 2 });
    const all = [1, 2, 3, 4, 5, 6, 7].map(call);
    await tick();
    // Two in flight at once; the rest wait.
    expect(batches.map((batch) => batch.inputs)).toEqual([[1], [2]]);
    batches[0]?.finish();
    await tick();
    expect(batches.map((batch) => batch.inputs)).toEqual([[1], [2], [3, 4]]);
    let finished = 1;
    while (finished < batches.length) {
      batches[finished]?.finish();
      finished += 1;
      await tick();
    }
    expect(await Promise.all(all)).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(batches.map((batch) => batch.inputs)).toEqual([[1], [2], [3, 4], [5, 6], [7]]);
  });

  it('runs a failed batch again one by one: only the bad input fails, and its caller gets the error', async () => {
    const runs: number[][] = [];
    const call = createBatcher({
      run: async (inputs: number[]) => {
        runs.push(inputs);
        if (inputs.includes(3)) throw new Error(`refused ${inputs.join(',')}`);
        return inputs.map((input) => input * 10);
      },
      maxBatch: 10,
      concurrency: 1,
      retrySingly: (error) => String(error).includes('refused'),
    });
    const results = await Promise.allSettled([1, 2, 3, 4].map(call));
    expect(results).toEqual([
      { status: 'fulfilled', value: 10 },
      { status: 'fulfilled', value: 20 },
      { status: 'rejected', reason: new Error('refused 3') },
      { status: 'fulfilled', value: 40 },
    ]);
    expect(runs).toEqual([[1], [2, 3, 4], [2], [3], [4]]);
    // And it goes on: the next batch is a batch again.
    expect(await Promise.all([5, 6].map(call))).toEqual([50, 60]);
  });

  it('does not retry one by one what `retrySingly` does not accept: every caller hears at once', async () => {
    let runs = 0;
    const call = createBatcher({
      run: async (inputs: number[]) => {
        runs += 1;
        if (inputs.length > 1) throw new Error('connection refused');
        return inputs;
      },
      maxBatch: 10,
      concurrency: 1,
      retrySingly: (error) => String(error).includes('bad payload'),
    });
    const results = await Promise.allSettled([1, 2, 3].map(call));
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    expect(runs).toBe(2);
  });

  it('settles every caller when run throws synchronously or returns no array', async () => {
    const throwing = createBatcher<number, number>({
      run: () => {
        throw new Error('sync');
      },
      maxBatch: 10,
      concurrency: 1,
    });
    await expect(throwing(1)).rejects.toThrow('sync');
    const odd = createBatcher<number, number>({
      run: async () => undefined as unknown as number[],
      maxBatch: 10,
      concurrency: 1,
    });
    await expect(odd(1)).rejects.toThrow('one output per input');
  });

  it('refuses a run that returns the wrong number of outputs', async () => {
    const call = createBatcher({ run: async () => [1], maxBatch: 10, concurrency: 1 });
    const results = await Promise.allSettled([call(1), call(2), call(3)]);
    expect(results[0]).toEqual({ status: 'fulfilled', value: 1 });
    expect(results.slice(1).map((result) => result.status)).toEqual(['rejected', 'rejected']);
  });

  it('with sameTurn, sends the calls of one event-loop turn together even with slots free', async () => {
    const { run, batches } = controlledRun();
    const call = createBatcher({ run, maxBatch: 100, concurrency: 4, sameTurn: true });
    const together = [1, 2, 3].map(call);
    // Without sameTurn the first call would be running after these microtasks.
    for (let step = 0; step < 5; step++) await Promise.resolve();
    expect(batches).toHaveLength(0);
    await tick();
    expect(batches.map((batch) => batch.inputs)).toEqual([[1, 2, 3]]);
    const later = call(4);
    await tick();
    expect(batches.map((batch) => batch.inputs)).toEqual([[1, 2, 3], [4]]);
    for (const batch of batches) batch.finish();
    expect(await Promise.all([...together, later])).toEqual([10, 20, 30, 40]);
  });
});
