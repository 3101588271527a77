/**
 * Group commit for one kind of statement: calls made while `concurrency` batches are in flight
 * wait, and then run together as one batch (at most `maxBatch`). A lone call runs at once, so
 * there is no added latency when it is quiet; under load one statement (and one commit) serves
 * many callers. `run` returns one output per input, in order. A batch of several that fails is
 * run again one input at a time, so one bad input (a payload the database refuses) fails only
 * its own caller; a lone input that fails gives its caller the error.
 */
export function createBatcher<I, O>(options: {
  run: (inputs: I[]) => Promise<O[]>;
  maxBatch: number;
  concurrency: number;
}): (input: I) => Promise<O> {
  type Waiting = { input: I; resolve: (output: O) => void; reject: (error: unknown) => void };
  const waiting: Waiting[] = [];
  let inFlight = 0;

  const settle = (batch: Waiting[], outputs: O[]) => {
    if (outputs.length !== batch.length) {
      const error = new Error(`a batch of ${batch.length} returned ${outputs.length} outputs`);
      for (const entry of batch) entry.reject(error);
      return;
    }
    for (const [index, entry] of batch.entries()) entry.resolve(outputs[index] as O);
  };

  const pump = () => {
    while (inFlight < options.concurrency && waiting.length > 0) {
      const batch = waiting.splice(0, options.maxBatch);
      inFlight += 1;
      Promise.resolve()
        .then(() => options.run(batch.map((entry) => entry.input)))
        .then(
          (outputs) => settle(batch, outputs),
          async (error: unknown) => {
            if (batch.length === 1) {
              batch[0]?.reject(error);
              return;
            }
            for (const entry of batch) {
              await options.run([entry.input]).then(
                (outputs) => settle([entry], outputs),
                (single: unknown) => entry.reject(single),
              );
            }
          },
        )
        .finally(() => {
          inFlight -= 1;
          pump();
        });
    }
  };

  return (input) =>
    new Promise<O>((resolve, reject) => {
      waiting.push({ input, resolve, reject });
      pump();
    });
}
