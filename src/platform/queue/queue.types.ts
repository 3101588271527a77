import type { Transaction } from '../db/database.ts';
import type { Logger } from '../logger/logger.ts';

/** A map from job type (e.g. `judge.submission`) to its payload. Payloads carry ids, not state. */
export type JobMapShape = Record<string, Record<string, unknown>>;

export type JobSpec = {
  /** The broker queue the job travels on; workers subscribe to queues (`assay worker --queues`). */
  queue: string;
  /** Tries before the job is marked failed (a crash mid-job counts as a try). */
  maxAttempts?: number;
  /** First retry delay; each further retry doubles it (with jitter), capped at 10 minutes. */
  backoffMs?: number;
  /** How long a claim lasts without a heartbeat before the sweeper hands the job to another worker. */
  leaseMs?: number;
  /**
   * Where the job's state is kept. `ledger` (the default): a row in the queue's own table, which
   * the queue claims, leases, completes and sweeps. `owner`: the owner's own row already holds it
   * (a submission's status, lease and tries), so the queue writes nothing to the database: the
   * message carries the payload, the handler claims its row itself and makes its outcome
   * conditional on that claim, and `JobHandler.stranded` tells the sweeper what to push again.
   */
  keptBy?: 'ledger' | 'owner';
};

export type JobCatalogue<M extends JobMapShape> = { readonly [K in keyof M]: JobSpec };

export type JobContext = {
  jobId: string;
  /** 1 on the first try (for owner-kept jobs: the first delivery; the owner counts its claims). */
  attempt: number;
  /** How long a claim should last without a heartbeat (the job type's `leaseMs`). */
  leaseMs: number;
  /**
   * Aborted when the lease is lost or the worker is shutting down past its grace period (for
   * owner-kept jobs only the latter: their lease is the owner's).
   */
  signal: AbortSignal;
  logger: Logger;
  /**
   * Runs `work` in one transaction that also marks the job completed. If the lease was lost
   * meanwhile (another worker took over) the transaction rolls back, so the outcome is written
   * exactly once however often the job is delivered. For owner-kept jobs it is a plain
   * transaction: the owner's own conditional write does that.
   */
  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T>;
};

export type JobHandler<P> = ((payload: P, context: JobContext) => Promise<void>) & {
  /**
   * Called once when the job has failed for good (its last try threw, or its workers kept
   * dying), so its owner can record the failure and nothing waits on the job forever.
   */
  gaveUp?: (payload: P, reason: string) => Promise<void>;
  /**
   * Owner-kept jobs only (and required for them): the owner's jobs that need pushing again,
   * unclaimed for longer than `graceMs` or held by a lease that ran out. `tries` is how often
   * the owner has claimed the job so far.
   */
  stranded?: (options: { graceMs: number; limit: number }) => Promise<StrandedJob<P>[]>;
};

export type StrandedJob<P> = { jobId: string; payload: P; tries: number };

export type JobHandlers<M extends JobMapShape> = { [K in keyof M]: JobHandler<M[K]> };

export type EnqueueOptions = {
  /** Deterministic id: enqueuing the same id twice runs the job once. */
  jobId?: string;
  delayMs?: number;
};

export type EnqueuedJob = { id: string; created: boolean };

/** An owner-kept job travels whole: no ledger row holds its type and payload. */
export type OwnedJob = { type: string; payload: unknown; attempt: number };

/** What a message delivers: a ledger id, or an owner-kept job. */
export type Delivery = { jobId: string; job?: OwnedJob };

/** The broker behind the ledger. It moves job ids (or owner-kept jobs); it may lose them (the sweeper covers that). */
export type QueueDriver = {
  readonly kind: 'memory' | 'bullmq';
  /** Delivers `jobId` on `queue` after `delayMs`; a second push with the same messageId is ignored while the first is pending. */
  push(message: Delivery & { queue: string; messageId: string; delayMs: number }): Promise<void>;
  consume(options: {
    queues: readonly string[];
    concurrency: number;
    handle: (delivery: Delivery) => Promise<void>;
  }): Promise<Consumer>;
  /** Messages waiting in the broker (not the ledger) for one queue. */
  waiting(queue: string): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
};

export type Consumer = {
  /** Stops taking messages and waits up to `timeoutMs` for the ones in hand. */
  close(timeoutMs: number): Promise<void>;
};
