/**
 * Group commit for one kind of statement: calls made while `concurrency` batches are in flight
 * wait, and then run together as one batch (at most `maxBatch`). A lone call runs at once (or at
 * the end of the turn with `sameTurn`, below), so quiet times add no latency; under load one
 * statement (and one commit) serves many callers. `run` returns one output per input, in order;
 * when it fails, every caller of the batch gets the error, except that a batch of several
 * failing with an error `retrySingly` accepts (one bad input, e.g. a payload the database
 * refuses) runs again one input at a time, so that input fails only its own caller. Transient
 * failures (database down) are not retried: their callers hear of them at once.
 *
 * `sameTurn` makes even a call that finds a free slot wait for the end of the event-loop turn, so
 * the calls of one turn (the requests read from the sockets at once) share a statement. That is
 * what batches at all on the embedded database, whose statements run synchronously: a slot is
 * free again before the next request is parsed, so without it every batch is a lone call.
 */
export function createBatcher<I, O>(options: {
  run: (inputs: I[]) => Promise<O[]>;
  maxBatch: number;
  concurrency: number;
  retrySingly?: (error: unknown) => boolean;
  sameTurn?: boolean;
}): (input: I) => Promise<O> {
  type Waiting = { input: I; resolve: (output: O) => void; reject: (error: unknown) => void };
  const waiting: Waiting[] = [];
  let inFlight = 0;

  /** Runs one batch to the end: every caller in it is settled, whatever `run` does. */
  const runBatch = (batch: Waiting[]): Promise<void> =>
    Promise.resolve()
      .then(() => options.run(batch.map((entry) => entry.input)))
      .then((outputs) => {
        if (!Array.isArray(outputs) || outputs.length !== batch.length) {
          throw new Error(`a batch of ${batch.length} did not return one output per input`);
        }
        for (const [index, entry] of batch.entries()) entry.resolve(outputs[index] as O);
      })
      .catch(async (error: unknown) => {
        if (batch.length > 1 && options.retrySingly?.(error)) {
          for (const entry of batch) await runBatch([entry]);
          return;
        }
        for (const entry of batch) entry.reject(error);
      });

  const pump = () => {
    while (inFlight < options.concurrency && waiting.length > 0) {
      const batch = waiting.splice(0, options.maxBatch);
      inFlight += 1;
      void runBatch(batch).finally(() => {
        inFlight -= 1;
        pump();
      });
    }
  };

  let pumpScheduled = false;
  const pumpAfterTurn = () => {
    if (pumpScheduled) return;
    pumpScheduled = true;
    setImmediate(() => {
      pumpScheduled = false;
      pump();
    });
  };

  return (input) =>
    new Promise<O>((resolve, reject) => {
      waiting.push({ input, resolve, reject });
      if (options.sameTurn) pumpAfterTurn();
      else pump();
    });
}
