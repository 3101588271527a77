import { describe, expect, it } from 'vitest';
import { findLanguage } from './sandbox.languages.ts';
import { parseVersion, TOOLCHAIN_MOUNT, withRoot } from './sandbox.toolchains.ts';

describe('toolchain detection', () => {
  it('reads the version each toolchain prints', () => {
    expect(parseVersion('gcc (Debian 12.2.0-14+deb12u1) 12.2.0\nCopyright')).toBe('12.2.0');
    expect(parseVersion('Python 3.11.2')).toBe('3.11.2');
    expect(parseVersion('v20.20.2')).toBe('20.20.2');
    expect(parseVersion('javac 17.0.15')).toBe('17.0.15');
    expect(parseVersion('Rscript (R) version 4.2.2 Patched (2022-11-10 r83330)')).toBe('4.2.2');
    expect(parseVersion('go version go1.19.8 linux/amd64')).toBe('1.19.8');
    expect(parseVersion('no digits here')).toBeNull();
  });

  it('binds a located toolchain at a fixed place, so a checkout under /tmp is not hidden', () => {
    // The sandbox mounts its own tmpfs on /tmp: a toolchain under the host's /tmp would vanish.
    const spec = withRoot(findLanguage('typescript')!, '/tmp/checkout/node_modules/typescript');
    expect(spec.compile?.argv.join(' ')).toContain(TOOLCHAIN_MOUNT);
    expect(spec.compile?.argv.join(' ')).not.toContain('/tmp/checkout');
    expect(spec.version.join(' ')).toContain('/tmp/checkout/node_modules/typescript');
    expect(spec.readOnlyPaths).toContainEqual({
      source: '/tmp/checkout/node_modules/typescript',
      dest: TOOLCHAIN_MOUNT,
    });
    // Without a sandbox the host path is used as it is.
    const unsafe = withRoot(findLanguage('typescript')!, '/srv/ts', { mount: false });
    expect(unsafe.compile?.argv).toContain('/srv/ts');
  });
});
