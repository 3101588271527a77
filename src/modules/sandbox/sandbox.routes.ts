import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { validationFailed } from '../../platform/errors/errors.ts';
import { principalOf } from '../../platform/http/access.ts';
import { sandboxUnavailable } from './sandbox.errors.ts';
import type { ExecutionResult, ExecutionService } from './sandbox.execution.types.ts';
import { languageItem, runBody, runResult } from './sandbox.schemas.ts';

const MiB = 1024 * 1024;

/** Sandbox results as the runs API shows them: text, not buffers; sizes in KB. */
export function presentRun(result: ExecutionResult): z.infer<typeof runResult> {
  return {
    status: result.status,
    stdout: result.stdout.toString('utf8'),
    stderr: result.stderr.toString('utf8'),
    ...(result.compileOutput ? { compileOutput: result.compileOutput.toString('utf8') } : {}),
    exitCode: result.exitCode,
    ...(result.signal ? { signal: result.signal } : {}),
    timeMs: result.cpuMs,
    wallTimeMs: result.wallMs,
    memoryKb: Math.round(result.memoryBytes / 1024),
    ...(result.limitExceeded ? { limitExceeded: result.limitExceeded } : {}),
    stdoutTruncated: result.stdoutTruncated,
    stderrTruncated: result.stderrTruncated,
  };
}

export function sandboxRoutes(deps: {
  execution: ExecutionService;
  runsPerMinute: number;
}): FastifyPluginAsyncZod {
  const tags = ['code execution'];
  const { limits } = deps.execution;
  return async (app) => {
    app.get(
      '/languages',
      {
        config: { access: 'public' },
        schema: {
          tags,
          summary: 'Languages whose toolchain answers on this server, with real versions',
          description:
            '503 SANDBOX_UNAVAILABLE, saying why, when code cannot be run here (no bubblewrap, no root, a failed self-test).',
          response: { 200: z.array(languageItem) },
        },
      },
      async () => {
        const status = await deps.execution.status();
        if (!status.available) throw sandboxUnavailable(status.reason ?? undefined);
        const compiled = new Set(status.compiled);
        return status.languages.map((language) => ({
          ...language,
          compiled: compiled.has(language.id),
          limits: {
            cpuMs: limits.run.cpuMs,
            wallMs: limits.run.wallMs,
            memoryMb: limits.run.memoryBytes / MiB,
            processes: limits.run.processes,
            openFiles: limits.run.openFiles,
            fileSizeBytes: limits.run.fileSizeBytes,
            stdoutBytes: limits.run.outputBytes,
            stderrBytes: limits.run.stderrBytes,
            maxCpuMs: limits.maxCpuMs,
            maxMemoryMb: limits.maxMemoryBytes / MiB,
            compileCpuMs: limits.compile.cpuMs,
            compileMemoryMb: limits.compile.memoryBytes / MiB,
          },
        }));
      },
    );

    app.post(
      '/runs',
      {
        config: {
          access: 'authenticated',
          rateLimit: { max: deps.runsPerMinute, timeWindow: 60_000 },
        },
        schema: {
          tags,
          summary: 'Compile and run a program in the sandbox',
          description:
            'User-code failures are statuses (compile_error, runtime_error, time_limit_exceeded, …), not HTTP errors. 503 SANDBOX_BUSY with Retry-After when every sandbox is busy and the queue is full.',
          body: runBody,
          response: { 200: runResult },
        },
      },
      async (request) => {
        const { language, source, stdin, timeLimitMs, memoryLimitMb } = request.body;
        const errors = [];
        if (timeLimitMs !== undefined && timeLimitMs > limits.maxCpuMs)
          errors.push({ path: 'body.timeLimitMs', message: `must be at most ${limits.maxCpuMs}` });
        if (memoryLimitMb !== undefined && memoryLimitMb * MiB > limits.maxMemoryBytes)
          errors.push({
            path: 'body.memoryLimitMb',
            message: `must be at most ${limits.maxMemoryBytes / MiB}`,
          });
        if (errors.length > 0) throw validationFailed(errors);
        const cpuMs = timeLimitMs ?? limits.run.cpuMs;
        const result = await deps.execution.execute({
          owner: principalOf(request).userId,
          language,
          source,
          ...(stdin === undefined ? {} : { stdin }),
          limits: {
            cpuMs,
            // A longer CPU allowance brings its wall time along (waiting on I/O, start-up).
            wallMs: Math.min(limits.maxWallMs, Math.max(limits.run.wallMs, cpuMs * 2 + 1000)),
            ...(memoryLimitMb === undefined ? {} : { memoryBytes: memoryLimitMb * MiB }),
          },
        });
        return presentRun(result);
      },
    );
  };
}
