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

/**
 * Where a located toolchain appears inside the sandbox. Not its host path: that may lie under
 * /tmp (a checkout in a temporary directory), which the sandbox's own tmpfs would hide.
 */
export const TOOLCHAIN_MOUNT = '/opt/assay-toolchain';

/**
 * The spec with `{root}` filled in: the version probe runs on the host with the host path;
 * compile and run see the root bound read-only at TOOLCHAIN_MOUNT (or, without a sandbox,
 * `mount: false`, at its host path).
 */
export function withRoot(
  spec: LanguageSpec,
  root: string,
  options: { mount?: boolean } = {},
): LanguageSpec {
  const inside = options.mount === false ? root : TOOLCHAIN_MOUNT;
  const fill = (argv: readonly string[], path: string) =>
    argv.map((arg) => arg.replaceAll('{root}', path));
  return {
    ...spec,
    ...(spec.compile
      ? { compile: { ...spec.compile, argv: fill(spec.compile.argv, inside) } }
      : {}),
    run: fill(spec.run, inside),
    version: fill(spec.version, root),
    readOnlyPaths: [...(spec.readOnlyPaths ?? []), { source: root, dest: TOOLCHAIN_MOUNT }],
  };
}

/**
 * Asks every toolchain for its version, on the host: these are the machine's own trusted
 * binaries, never user code. Only the ones that answer are offered.
 */
export async function probeToolchains(
  languages: readonly LanguageSpec[],
  options: {
    timeoutMs: number;
    cwd: string;
    hostPath: string;
    signal?: AbortSignal;
    /** False without a sandbox: located toolchains are used at their host paths. */
    mount?: boolean;
  },
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
          spec = withRoot(language, root, { mount: options.mount !== false });
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
