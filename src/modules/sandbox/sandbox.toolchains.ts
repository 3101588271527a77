import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { promisify } from 'node:util';
import type { AvailableLanguage } from './sandbox.execution.types.ts';
import { BASE_ENV, type LanguageSpec } from './sandbox.languages.ts';

const exec = promisify(execFile);

/** A language whose toolchain answered, with `{root}` filled in. */
export interface Toolchain {
  spec: LanguageSpec;
  info: AvailableLanguage;
}

export interface ToolchainReport {
  present: Toolchain[];
  missing: Array<{ id: string; reason: string }>;
}

/** The first dotted version number a toolchain printed (`gcc (Debian 12.2.0-14) 12.2.0` → 12.2.0). */
export function parseVersion(output: string): string | null {
  return /(\d+\.\d+(?:\.\d+)?)/.exec(output)?.[1] ?? null;
}

/** The spec with `{root}` replaced in every command, and the root bound read-only. */
export function withRoot(spec: LanguageSpec, root: string): LanguageSpec {
  const fill = (argv: readonly string[]) => argv.map((arg) => arg.replaceAll('{root}', root));
  return {
    ...spec,
    ...(spec.compile ? { compile: { ...spec.compile, argv: fill(spec.compile.argv) } } : {}),
    run: fill(spec.run),
    version: fill(spec.version),
    readOnlyPaths: [...(spec.readOnlyPaths ?? []), root],
  };
}

/**
 * Asks every toolchain for its version, on the host: these are the machine's own trusted
 * binaries, never user code. Only the ones that answer are offered.
 */
export async function probeToolchains(
  languages: readonly LanguageSpec[],
  options: { timeoutMs: number; cwd: string; hostPath: string; signal?: AbortSignal },
): Promise<ToolchainReport> {
  // Aborted on shutdown: a server stopping during start-up does not wait for slow toolchains.
  const abort = options.signal ? { signal: options.signal } : {};
  const results = await Promise.all(
    languages.map(async (language): Promise<Toolchain | { id: string; reason: string }> => {
      try {
        let spec = language;
        if (language.locate) {
          const [command, ...args] = language.locate as [string, ...string[]];
          const { stdout } = await exec(command, args, {
            timeout: options.timeoutMs,
            cwd: options.cwd,
            env: { ...BASE_ENV, PATH: options.hostPath },
            ...abort,
          });
          const root = stdout.trim();
          if (!isAbsolute(root) || !existsSync(root)) throw new Error(`located at "${root}"`);
          spec = withRoot(language, root);
        }
        const [command, ...args] = spec.version as [string, ...string[]];
        if (!existsSync(command)) throw new Error(`${command} is not installed`);
        const { stdout, stderr } = await exec(command, args, {
          timeout: options.timeoutMs,
          cwd: options.cwd,
          env: { ...BASE_ENV },
          ...abort,
        });
        const version = parseVersion(`${stdout}\n${stderr}`);
        if (!version) throw new Error(`no version in "${`${stdout}${stderr}`.slice(0, 80)}"`);
        return {
          spec,
          info: { id: spec.id, name: spec.name, version, judge0Id: spec.judge0Id },
        };
      } catch (error) {
        const reason = (error as Error).message.split('\n')[0] ?? 'did not answer';
        return { id: language.id, reason };
      }
    }),
  );
  const report: ToolchainReport = { present: [], missing: [] };
  for (const result of results) {
    if ('spec' in result) report.present.push(result);
    else report.missing.push(result);
  }
  return report;
}
