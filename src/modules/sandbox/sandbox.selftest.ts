import { isAbsolute, resolve } from 'node:path';
import type { Logger } from '../../platform/logger/logger.ts';
import type { SandboxHost } from './sandbox.host.ts';
import { BASE_ENV } from './sandbox.languages.ts';
import { DEFAULT_RUN_LIMITS } from './sandbox.limits.ts';
import { runInSandbox } from './sandbox.runner.ts';

/**
 * Run at start-up, like isolate's environment check: a sandboxed shell must see no network
 * interface but its own loopback, none of the given host paths, no root identity and no
 * environment beyond the language's. The script is a constant; the paths are its arguments.
 */
const SCRIPT = `
for path in "$@"; do
  if [ -e "$path" ]; then echo "a sandboxed program can see $path"; exit 1; fi
done
if [ "$(grep -c ':' /proc/net/dev)" != 1 ] || ! grep -q '^ *lo:' /proc/net/dev; then
  echo "a sandboxed program has network interfaces:"; cat /proc/net/dev; exit 1
fi
if [ "$(id -u)" = 0 ]; then echo "a sandboxed program runs as root"; exit 1; fi
extra=$(env | cut -d= -f1 | grep -v -x -e PATH -e HOME -e TMPDIR -e LANG -e PWD -e SHLVL -e _)
if [ -n "$extra" ]; then echo "a sandboxed program sees environment variables: $extra"; exit 1; fi
echo isolated
`;

/** Paths a sandboxed program must not see: secrets, the data directory, the app itself. */
export function hiddenHostPaths(options: { dataDir: string; appDir: string }): string[] {
  const paths = ['/etc/shadow', '/root', '/home', resolve(options.dataDir)];
  // An app installed under /usr is part of the read-only toolchain tree; anywhere else it
  // (with its .env) must stay out of sight.
  if (isAbsolute(options.appDir) && !options.appDir.startsWith('/usr/'))
    paths.push(resolve(options.appDir, '.env'), options.appDir);
  return paths;
}

/** Null when the sandbox isolates as it should, else what is wrong. */
export async function selfTestSandbox(options: {
  host: SandboxHost;
  logger: Logger;
  hiddenPaths: readonly string[];
}): Promise<string | null> {
  const { result } = await runInSandbox({
    host: options.host,
    logger: options.logger,
    step: {
      kind: 'run',
      argv: ['/bin/sh', '-c', SCRIPT, 'self-test', ...options.hiddenPaths],
      files: {},
      limits: { ...DEFAULT_RUN_LIMITS, wallMs: 10_000 },
      env: BASE_ENV,
    },
  });
  const said = result.stdout.toString('utf8').trim();
  if (result.verdict === 'ok' && said === 'isolated') return null;
  return `self-test failed (${result.verdict}): ${said || result.stderr.toString('utf8').trim()}`;
}
