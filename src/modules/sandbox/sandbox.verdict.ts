import type { LimitName, StepKind, Verdict } from './sandbox.types.ts';

/** What the harness observed about one step; the verdict is a pure function of this. */
export interface StepFacts {
  kind: StepKind;
  /** The harness itself failed (bwrap did not start, a cgroup could not be made, …). */
  harnessError: boolean;
  /** Why the harness killed the step, if it did (first reason wins). */
  killedFor: 'cpu' | 'wall' | 'output' | null;
  /** The kernel's OOM killer fired inside the step's cgroup. */
  oomKilled: boolean;
  cpuMs: number;
  cpuLimitMs: number;
  exitCode: number | null;
  signal: string | null;
  /** A fork or thread creation was refused by the pids cgroup. */
  processesLimitHit: boolean;
}

type Outcome = { verdict: Verdict; limitExceeded: LimitName | null };

interface Rule {
  when: (facts: StepFacts) => boolean;
  verdict: Verdict;
  limitExceeded: LimitName | null;
}

const failed = (facts: StepFacts) => facts.signal !== null || facts.exitCode !== 0;

/**
 * First match wins. Order matters: a program the OOM killer stopped also died of SIGKILL, and one
 * stopped for output also has a broken pipe, so the cause is checked before the symptom.
 */
export const VERDICT_RULES: readonly Rule[] = [
  { when: (f) => f.harnessError, verdict: 'internal_error', limitExceeded: null },
  { when: (f) => f.oomKilled, verdict: 'memory_limit_exceeded', limitExceeded: 'memory' },
  {
    when: (f) => f.killedFor === 'output',
    verdict: 'output_limit_exceeded',
    limitExceeded: 'output',
  },
  {
    when: (f) => f.killedFor === 'cpu' || f.cpuMs > f.cpuLimitMs || f.signal === 'SIGXCPU',
    verdict: 'time_limit_exceeded',
    limitExceeded: 'cpu',
  },
  { when: (f) => f.killedFor === 'wall', verdict: 'time_limit_exceeded', limitExceeded: 'wall' },
  { when: (f) => f.signal === 'SIGXFSZ', verdict: 'runtime_error', limitExceeded: 'file_size' },
  {
    when: (f) => failed(f) && f.processesLimitHit,
    verdict: 'runtime_error',
    limitExceeded: 'processes',
  },
  { when: failed, verdict: 'runtime_error', limitExceeded: null },
];

/**
 * The verdict of a step. In a compile step every failure of the submitted code (including a
 * compiler that ran out of time or memory on it) is a `compile_error`; `limitExceeded` still says
 * which limit stopped it.
 */
export function deriveVerdict(facts: StepFacts): Outcome {
  const rule = VERDICT_RULES.find((candidate) => candidate.when(facts));
  if (!rule) return { verdict: 'ok', limitExceeded: null };
  const { verdict, limitExceeded } = rule;
  if (facts.kind === 'compile' && verdict !== 'internal_error') {
    return { verdict: 'compile_error', limitExceeded };
  }
  return { verdict, limitExceeded };
}
