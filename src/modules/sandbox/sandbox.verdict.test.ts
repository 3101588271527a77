import { describe, expect, it } from 'vitest';
import { deriveVerdict, type StepFacts } from './sandbox.verdict.ts';

const clean: StepFacts = {
  kind: 'run',
  harnessError: false,
  killedFor: null,
  oomKilled: false,
  cpuMs: 10,
  cpuLimitMs: 1000,
  exitCode: 0,
  signal: null,
  processesLimitHit: false,
};
const facts = (changes: Partial<StepFacts>): StepFacts => ({ ...clean, ...changes });

describe('deriveVerdict', () => {
  it.each<[string, Partial<StepFacts>, string, string | null]>([
    ['a clean exit', {}, 'ok', null],
    ['a non-zero exit', { exitCode: 3 }, 'runtime_error', null],
    ['a segfault', { exitCode: null, signal: 'SIGSEGV' }, 'runtime_error', null],
    [
      'an OOM kill (also SIGKILL)',
      { oomKilled: true, signal: 'SIGKILL' },
      'memory_limit_exceeded',
      'memory',
    ],
    [
      'an output flood (then SIGPIPE)',
      { killedFor: 'output', signal: 'SIGPIPE' },
      'output_limit_exceeded',
      'output',
    ],
    ['the CPU watchdog', { killedFor: 'cpu', signal: 'SIGKILL' }, 'time_limit_exceeded', 'cpu'],
    ['CPU over the limit at a clean exit', { cpuMs: 1001 }, 'time_limit_exceeded', 'cpu'],
    ['RLIMIT_CPU', { signal: 'SIGXCPU' }, 'time_limit_exceeded', 'cpu'],
    ['the wall timer', { killedFor: 'wall', cpuMs: 0 }, 'time_limit_exceeded', 'wall'],
    ['RLIMIT_FSIZE', { signal: 'SIGXFSZ' }, 'runtime_error', 'file_size'],
    [
      'a refused fork that crashed',
      { exitCode: 1, processesLimitHit: true },
      'runtime_error',
      'processes',
    ],
    ['a refused fork the program survived', { processesLimitHit: true }, 'ok', null],
    ['a harness failure', { harnessError: true, killedFor: 'wall' }, 'internal_error', null],
  ])('%s', (_name, changes, verdict, limitExceeded) => {
    expect(deriveVerdict(facts(changes))).toEqual({ verdict, limitExceeded });
  });

  it('puts the cause before the symptom when several apply', () => {
    expect(deriveVerdict(facts({ oomKilled: true, killedFor: 'wall', cpuMs: 5000 })).verdict).toBe(
      'memory_limit_exceeded',
    );
    expect(deriveVerdict(facts({ killedFor: 'output', cpuMs: 5000 })).verdict).toBe(
      'output_limit_exceeded',
    );
    expect(deriveVerdict(facts({ killedFor: 'wall', cpuMs: 1500 }))).toEqual({
      verdict: 'time_limit_exceeded',
      limitExceeded: 'cpu',
    });
  });

  it('makes every failure of a compile step a compile error, keeping the limit', () => {
    expect(deriveVerdict(facts({ kind: 'compile', exitCode: 1 }))).toEqual({
      verdict: 'compile_error',
      limitExceeded: null,
    });
    expect(deriveVerdict(facts({ kind: 'compile', oomKilled: true }))).toEqual({
      verdict: 'compile_error',
      limitExceeded: 'memory',
    });
    expect(deriveVerdict(facts({ kind: 'compile', killedFor: 'wall' }))).toEqual({
      verdict: 'compile_error',
      limitExceeded: 'wall',
    });
    expect(deriveVerdict(facts({ kind: 'compile' })).verdict).toBe('ok');
    expect(deriveVerdict(facts({ kind: 'compile', harnessError: true })).verdict).toBe(
      'internal_error',
    );
  });
});
