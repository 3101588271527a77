import { describe, expect, it } from 'vitest';
import { createLogger } from '../../platform/logger/logger.ts';
import { BASE_ENV } from './sandbox.languages.ts';
import type { SandboxStep } from './sandbox.runner.ts';
import { TIGHT_LIMITS } from './sandbox.test-utils.ts';
import { parseTimes, runUnsandboxed } from './sandbox.unsafe.ts';

const logger = createLogger({ level: 'silent' });
const step = (argv: string[], extra: Partial<SandboxStep> = {}): SandboxStep => ({
  kind: 'run',
  argv,
  files: {},
  limits: TIGHT_LIMITS,
  env: BASE_ENV,
  ...extra,
});

describe('SANDBOX=unsafe-none', () => {
  it('reads the children’s CPU time from the shell’s `times`', () => {
    expect(parseTimes('0m0.000000s 0m0.000000s\n0m0.140000s 0m0.040000s\n')).toBe(180);
    expect(parseTimes('0m0.00s 0m0.00s\n1m2.50s 0m0.25s')).toBe(62_750);
    expect(parseTimes('')).toBeNull();
  });

  it('runs a program from a fresh directory with stdin, and reports exit code and CPU time', async () => {
    const { result } = await runUnsandboxed({
      logger,
      step: step(['/usr/bin/python3', 'main.py'], {
        files: {
          'main.py': {
            content:
              'import os, sys\nprint(sum(map(int, input().split())), sorted(os.listdir(".")))\nx = 0\nfor i in range(3_000_000): x += i\nsys.exit(4)\n',
          },
        },
        stdin: '40 2\n',
      }),
    });
    expect(result).toMatchObject({ verdict: 'runtime_error', exitCode: 4, memoryBytes: 0 });
    expect(result.stdout.toString()).toBe("42 ['main.py']\n");
    expect(result.cpuMs).toBeGreaterThan(50);
  });

  it('still stops a sleeper by wall time, a spinner by CPU time and a flood by the output cap', async () => {
    const sleeper = await runUnsandboxed({
      logger,
      step: step(['/bin/sleep', '30'], { limits: { ...TIGHT_LIMITS, wallMs: 300 } }),
    });
    expect(sleeper.result).toMatchObject({ verdict: 'time_limit_exceeded', limitExceeded: 'wall' });
    expect(sleeper.result.wallMs).toBeLessThan(5000);

    const spinner = await runUnsandboxed({
      logger,
      step: step(['/usr/bin/python3', '-c', 'while True: pass'], {
        limits: { ...TIGHT_LIMITS, cpuMs: 500, wallMs: 10_000 },
      }),
    });
    expect(spinner.result.verdict).toBe('time_limit_exceeded');

    const flood = await runUnsandboxed({
      logger,
      step: step(['/usr/bin/yes']),
    });
    expect(flood.result).toMatchObject({
      verdict: 'output_limit_exceeded',
      stdoutTruncated: true,
    });
    expect(flood.result.stdout.length).toBe(TIGHT_LIMITS.outputBytes);
  });
});
