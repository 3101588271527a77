import { describe, expect, it } from 'vitest';
import { DEFAULT_COMPILE_LIMITS, DEFAULT_RUN_LIMITS, limitsProblem } from './sandbox.limits.ts';

describe('limitsProblem', () => {
  it('accepts the defaults', () => {
    expect(limitsProblem(DEFAULT_RUN_LIMITS)).toBeNull();
    expect(limitsProblem(DEFAULT_COMPILE_LIMITS)).toBeNull();
  });

  it('refuses limits that cannot be enforced', () => {
    expect(limitsProblem({ ...DEFAULT_RUN_LIMITS, cpuMs: 0 })).toMatch(/cpuMs/);
    expect(limitsProblem({ ...DEFAULT_RUN_LIMITS, memoryBytes: 1.5 })).toMatch(/memoryBytes/);
    expect(limitsProblem({ ...DEFAULT_RUN_LIMITS, wallMs: Number.POSITIVE_INFINITY })).toMatch(
      /wallMs/,
    );
    expect(limitsProblem({ ...DEFAULT_RUN_LIMITS, openFiles: 3 })).toMatch(/at least 16/);
  });
});
