import type { Limits } from './sandbox.types.ts';

const MiB = 1024 * 1024;

/** The contract's defaults for a run (API.md, "Code execution"). */
export const DEFAULT_RUN_LIMITS: Limits = {
  cpuMs: 2000,
  wallMs: 5000,
  memoryBytes: 256 * MiB,
  processes: 64,
  openFiles: 64,
  fileSizeBytes: 16 * MiB,
  outputBytes: 1 * MiB,
  stderrBytes: 64 * 1024,
  tmpBytes: 16 * MiB,
};

/** Compilers get more time and memory; compile output is capped like stderr. */
export const DEFAULT_COMPILE_LIMITS: Limits = {
  cpuMs: 10_000,
  wallMs: 10_000,
  memoryBytes: 512 * MiB,
  processes: 64,
  openFiles: 64,
  fileSizeBytes: 64 * MiB,
  outputBytes: 64 * 1024,
  stderrBytes: 64 * 1024,
  tmpBytes: 128 * MiB,
};

/** The largest artifact a compile step may hand to the runs. */
export const MAX_ARTIFACT_BYTES = 64 * MiB;

/** bwrap, the dynamic linker and language runtimes need a few descriptors of their own. */
export const MIN_OPEN_FILES = 16;

/** Why a set of limits cannot be enforced as given, or null. */
export function limitsProblem(limits: Limits): string | null {
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) return `${name} must be a positive integer`;
  }
  if (limits.openFiles < MIN_OPEN_FILES) return `openFiles must be at least ${MIN_OPEN_FILES}`;
  return null;
}
