import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Whether bubblewrap can create an isolated namespace here. Only checks the mechanism; the
 * sandbox itself (limits, languages) is its own module.
 */
export async function probeSandbox(options: { timeoutMs: number }): Promise<{ version: string }> {
  const { stdout } = await run('bwrap', ['--version'], { timeout: options.timeoutMs, env: {} });
  await run(
    'bwrap',
    [
      '--unshare-all',
      '--die-with-parent',
      '--ro-bind',
      '/usr',
      '/usr',
      '--symlink',
      'usr/bin',
      '/bin',
      '--symlink',
      'usr/lib',
      '/lib',
      '--symlink',
      'usr/lib64',
      '/lib64',
      '--proc',
      '/proc',
      '--dev',
      '/dev',
      '/bin/true',
    ],
    { timeout: options.timeoutMs, env: {} },
  );
  return { version: stdout.trim() };
}
