import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'vitest';
import { createLogger, type Logger } from '../../platform/logger/logger.ts';
import { runBatch, startBatchSandbox } from './sandbox.batch.ts';
import { detectSandboxHost, type SandboxHost } from './sandbox.host.ts';
import { BASE_ENV, findLanguage } from './sandbox.languages.ts';
import { runInSandbox, type SandboxStep } from './sandbox.runner.ts';
import { createSandboxService, type SandboxService } from './sandbox.service.ts';
import type { Limits, RunResult, StepKind } from './sandbox.types.ts';

const MiB = 1024 * 1024;

/** Tight limits so the hostile suite stays fast on two shared cores. */
export const TIGHT_LIMITS: Limits = {
  cpuMs: 1000,
  wallMs: 3000,
  memoryBytes: 64 * MiB,
  processes: 32,
  openFiles: 64,
  fileSizeBytes: 4 * MiB,
  outputBytes: 64 * 1024,
  stderrBytes: 16 * 1024,
  tmpBytes: 8 * MiB,
};

export type TestSandbox =
  | {
      available: true;
      host: SandboxHost;
      service: SandboxService;
      logger: Logger;
      /**
       * `runStep` runs a run step the way the service runs one in a sandbox started ahead (a
       * per-submission sandbox serving one test), instead of in a sandbox started for it.
       */
      startedAhead?: boolean;
    }
  | { available: false; reason: string };

/** The machine's sandbox, or why there is none (tests then skip and say so). */
export async function openTestSandbox(): Promise<TestSandbox> {
  try {
    const host = await detectSandboxHost();
    const logger = createLogger({ level: 'silent' });
    return { available: true, host, service: createSandboxService({ host, logger }), logger };
  } catch (error) {
    return { available: false, reason: (error as Error).message };
  }
}

/** Null when this machine can sandbox, else why not (checked once per test file). */
export async function sandboxUnusable(): Promise<string | null> {
  try {
    const host = await detectSandboxHost();
    await host.close();
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * What a suite does on a machine without a usable sandbox. A developer laptop (no root, no
 * bubblewrap) skips with the reason; CI (`CI=true`) fails, so the hostile suite can never
 * pass there by not running.
 */
export function reportMissingSandbox(suite: string, reason: string) {
  describe(suite, () => {
    if (process.env.CI === 'true') {
      it('needs a usable sandbox in CI', () => {
        throw new Error(`the sandbox is not usable here: ${reason}`);
      });
    } else {
      it.skip(`skipped: ${reason}`, () => undefined);
    }
  });
}

export const newMarker = () => `assay-test-${randomBytes(6).toString('hex')}`;

/** Host processes whose environment carries the marker: anything a step left running. */
export function processesWithMarker(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(`ASSAY_MARK=${marker}`)) {
        found.push(Number(entry));
      }
    } catch {
      // exited meanwhile, or a kernel thread
    }
  }
  return found;
}

/** What the host's work root holds besides the supervisor binary: step and batch directories. */
export const stepDirectories = (host: SandboxHost) =>
  readdirSync(host.workRoot).filter((name) => !name.startsWith('supervisor-'));

/** Step cgroups of this host that still exist (each host has parents of its own). */
export function leftoverCgroups(host: SandboxHost): string[] {
  return host.cgroups.parents.flatMap((parent) =>
    readdirSync(parent, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name),
  );
}

/** A raw step with a marker in its environment, for programs that are not a language's default. */
export async function runStep(options: {
  sandbox: Extract<TestSandbox, { available: true }>;
  marker: string;
  kind?: StepKind;
  argv: readonly string[];
  files: SandboxStep['files'];
  stdin?: string;
  limits?: Partial<Limits>;
  collect?: SandboxStep['collect'];
}) {
  const { host, logger } = options.sandbox;
  const step: SandboxStep = {
    kind: options.kind ?? 'run',
    argv: options.argv,
    files: options.files,
    ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
    limits: { ...TIGHT_LIMITS, ...options.limits },
    env: { ...BASE_ENV, ASSAY_MARK: options.marker },
    ...(options.collect ? { collect: options.collect } : {}),
  };
  if (!options.sandbox.startedAhead || step.kind !== 'run' || step.collect) {
    return runInSandbox({ host, logger, step });
  }
  const { files, stdin, kind: _, ...shape } = step;
  const sandbox = await startBatchSandbox({ host, shape, logger });
  // Started before the run is asked for, as the service's are. A start that fails fails the
  // test: the batch would run the program in a fresh sandbox instead, and this mode would pass
  // without being tested.
  await sandbox.ready;
  const [result] = await runBatch({
    host,
    logger,
    sandbox,
    program: { ...shape, files },
    tests: [stdin === undefined ? {} : { stdin }],
  });
  return { result: result!, artifacts: {} };
}

export async function runPython(options: {
  sandbox: Extract<TestSandbox, { available: true }>;
  marker: string;
  source: string;
  stdin?: string;
  limits?: Partial<Limits>;
}): Promise<RunResult> {
  const { result } = await runStep({
    ...options,
    argv: ['/usr/bin/python3', '-B', 'main.py'],
    files: { 'main.py': { content: options.source } },
  });
  return result;
}

/** Compiles with the language table's command, then runs the binary with the marker set. */
export async function runCompiled(options: {
  sandbox: Extract<TestSandbox, { available: true }>;
  marker: string;
  language: 'c' | 'cpp';
  source: string;
  stdin?: string;
  limits?: Partial<Limits>;
}): Promise<RunResult> {
  const prepared = await options.sandbox.service.prepare({
    language: options.language,
    source: options.source,
  });
  if (!prepared.ok) {
    throw new Error(`does not compile: ${prepared.compile.stderr.toString('utf8')}`);
  }
  const language = findLanguage(options.language)!;
  const { result } = await runStep({
    ...options,
    argv: language.run,
    files: prepared.program.files,
  });
  return result;
}

export const text = (buffer: Buffer) => buffer.toString('utf8');
