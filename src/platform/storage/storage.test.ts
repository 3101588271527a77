import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assertStorageKey, createLocalStorage } from './storage.ts';

describe('local file storage', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });
  const storage = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'assay-storage-'));
    dirs.push(dir);
    return { dir, storage: createLocalStorage({ dataDir: dir, storageUrl: undefined }) };
  };

  it('stores, reads back and deletes by prefix; a missing key is null', async () => {
    const { dir, storage: files } = await storage();
    await files.put('challenges/c1/tests/1.in', '1 2\n');
    await files.put('challenges/c1/tests/1.out', Buffer.from([0, 255, 10]));
    await files.put('challenges/c2/tests/1.in', 'other');
    expect((await files.get('challenges/c1/tests/1.in'))?.toString()).toBe('1 2\n');
    expect([...((await files.get('challenges/c1/tests/1.out')) ?? [])]).toEqual([0, 255, 10]);
    expect(await files.get('challenges/c1/tests/2.in')).toBeNull();
    await files.deletePrefix('challenges/c1');
    expect(await files.get('challenges/c1/tests/1.in')).toBeNull();
    expect((await files.get('challenges/c2/tests/1.in'))?.toString()).toBe('other');
    // Nothing half-written is left beside the files.
    expect(await readdir(join(dir, 'files', 'challenges', 'c2', 'tests'))).toEqual(['1.in']);
    await files.check();
  });

  it('refuses keys that could leave its directory', () => {
    for (const key of ['../etc/passwd', '/abs', 'a//b', 'a/../b', '', '.hidden', 'a b'])
      expect(() => assertStorageKey(key), key).toThrow(/not a storage key/);
    expect(() => assertStorageKey('challenges/abc-1/tests/10.out')).not.toThrow();
  });
});
