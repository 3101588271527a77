import type { Child } from './children.ts';
import { processCpuSeconds, systemCpu } from './cpu.ts';
import type { BenchDatabase, BenchRedis } from './postgres.ts';

/**
 * Where the machine's CPU went during a round: the loaded server, the other (idle) server, the
 * harness (the in-process load generator, plus wrk once it has exited and been reaped), the
 * PostgreSQL processes serving this run and Redis; what is left of the machine's busy time is
 * other processes (noise).
 */
type Snapshot = {
  at: number;
  busy: number;
  steal: number;
  server: number;
  idle: number;
  harness: number;
  database: Map<number, number>;
  redis: number;
};

export type Probe = {
  server: Child;
  idle: Child;
  database?: BenchDatabase | undefined;
  redis?: BenchRedis | undefined;
};

export type CpuUse = {
  elapsedMs: number;
  serverSeconds: number;
  serverCores: number;
  idleServerCores: number;
  clientCores: number;
  databaseSeconds: number;
  redisSeconds: number;
  /** Busy CPU of the machine not accounted for by any of the above. */
  otherCores: number;
  stealCores: number;
};

async function snapshot(probe: Probe): Promise<Snapshot> {
  const database = probe.database ? await probe.database.cpuByPid() : new Map<number, number>();
  const system = systemCpu();
  return {
    at: performance.now(),
    busy: system.busySeconds,
    steal: system.stealSeconds,
    server: processCpuSeconds(probe.server.pid),
    idle: processCpuSeconds(probe.idle.pid),
    harness: processCpuSeconds(process.pid),
    database,
    redis: probe.redis?.cpuSeconds() ?? 0,
  };
}

/** Runs `work` and reports the CPU used meanwhile, per process group. */
export async function measured<T>(
  probe: Probe,
  work: () => Promise<T>,
): Promise<{ result: T; cpu: CpuUse }> {
  const before = await snapshot(probe);
  const result = await work();
  if (probe.server.hasExited()) {
    throw new Error(`${probe.server.name} exited under load:\n${probe.server.output()}`);
  }
  const after = await snapshot(probe);
  const elapsedMs = after.at - before.at;
  const cores = (seconds: number) => (seconds * 1000) / elapsedMs;
  const serverSeconds = after.server - before.server;
  const idleSeconds = after.idle - before.idle;
  const harnessSeconds = after.harness - before.harness;
  // A backend that is new counts from 0; one that exited meanwhile is lost (its last moments).
  let databaseSeconds = 0;
  for (const [pid, seconds] of after.database) {
    databaseSeconds += seconds - (before.database.get(pid) ?? 0);
  }
  const redisSeconds = after.redis - before.redis;
  const accounted = serverSeconds + idleSeconds + harnessSeconds + databaseSeconds + redisSeconds;
  return {
    result,
    cpu: {
      elapsedMs,
      serverSeconds,
      serverCores: cores(serverSeconds),
      idleServerCores: cores(idleSeconds),
      clientCores: cores(harnessSeconds),
      databaseSeconds,
      redisSeconds,
      otherCores: Math.max(0, cores(after.busy - before.busy - accounted)),
      stealCores: cores(after.steal - before.steal),
    },
  };
}
