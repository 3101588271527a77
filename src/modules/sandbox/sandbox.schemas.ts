import { z } from 'zod';
import { VERDICTS } from './sandbox.types.ts';

export const MAX_SOURCE_BYTES = 64 * 1024;
export const MAX_STDIN_BYTES = 1024 * 1024;

const runLimits = z.object({
  cpuMs: z.number().describe('CPU time of a run, all processes together'),
  wallMs: z.number(),
  memoryMb: z.number(),
  processes: z.number().describe('processes and threads together'),
  openFiles: z.number(),
  fileSizeBytes: z.number().describe('largest file a run may write'),
  stdoutBytes: z.number().describe('beyond this the run stops with output_limit_exceeded'),
  stderrBytes: z.number().describe('beyond this stderr is truncated and flagged'),
  maxCpuMs: z.number().describe('the most `timeLimitMs` may ask for'),
  maxMemoryMb: z.number().describe('the most `memoryLimitMb` may ask for'),
  compileCpuMs: z.number(),
  compileMemoryMb: z.number(),
});

export const languageItem = z.object({
  id: z.string().describe('what `language` takes in runs and submissions'),
  name: z.string(),
  version: z.string().describe('as the toolchain reports it here'),
  judge0Id: z.number().int().nullable().describe('the Judge0 CE language id'),
  compiled: z.boolean().describe('compiled once before the runs'),
  limits: runLimits,
});

const byteLength = (max: number) => (value: string) => Buffer.byteLength(value, 'utf8') <= max;

export const runBody = z.strictObject({
  language: z.string().min(1).max(40).describe('an id from GET /languages'),
  source: z
    .string()
    .min(1)
    .refine(byteLength(MAX_SOURCE_BYTES), `must be at most ${MAX_SOURCE_BYTES} bytes`),
  stdin: z
    .string()
    .refine(byteLength(MAX_STDIN_BYTES), `must be at most ${MAX_STDIN_BYTES} bytes`)
    .optional(),
  timeLimitMs: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('CPU time limit; at most the published maxCpuMs'),
  memoryLimitMb: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('memory limit; at most the published maxMemoryMb'),
});

export const runResult = z.object({
  status: z.enum(VERDICTS),
  stdout: z.string().describe('UTF-8 (invalid bytes replaced)'),
  stderr: z.string(),
  compileOutput: z.string().optional().describe('the compiler’s output, for compiled languages'),
  exitCode: z.number().int().nullable(),
  signal: z.string().optional().describe('e.g. SIGSEGV, when the program died of a signal'),
  timeMs: z.number().describe('CPU time of the whole run (all processes)'),
  wallTimeMs: z.number(),
  memoryKb: z.number().describe('peak memory of the whole run, as the cgroup counts it'),
  limitExceeded: z.enum(['cpu', 'wall', 'memory', 'processes', 'output', 'file_size']).optional(),
  stdoutTruncated: z.boolean(),
  stderrTruncated: z.boolean(),
});
