import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalStorage, type FileStorage } from '../src/platform/storage/storage.ts';
import { createS3Storage } from '../src/platform/storage/storage-s3.ts';
import { startS3Double } from './support/s3-double.ts';

type Driver = { storage: FileStorage; close(): Promise<void> };

const drivers: Record<string, () => Promise<Driver>> = {
  local: async () => {
    const dir = await mkdtemp(join(tmpdir(), 'assay-storage-'));
    return {
      storage: createLocalStorage({ dataDir: dir, storageUrl: undefined }),
      close: () => rm(dir, { recursive: true, force: true }),
    };
  },
  // The official SDK against a local double: no S3 is reachable from here.
  s3: async () => {
    const double = await startS3Double({ bucket: 'assay-test', accessKeyId: 'test-key' });
    const storage = createS3Storage({
      url: 's3://assay-test/tenant-a',
      endpoint: double.endpoint,
      region: 'us-east-1',
      accessKeyId: 'test-key',
      secretAccessKey: 'test-secret',
      forcePathStyle: true,
    });
    return {
      storage,
      close: async () => {
        storage.close();
        await double.close();
      },
    };
  },
};

describe.each(Object.keys(drivers))('the storage port on %s', (name) => {
  let driver: Driver;
  beforeAll(async () => {
    driver = await (drivers[name] as () => Promise<Driver>)();
  });
  afterAll(async () => {
    await driver.close();
  });

  it('stores bytes exactly, reads them back, and says null for a missing key', async () => {
    const { storage } = driver;
    const binary = Buffer.from([0, 1, 2, 255, 254, 10, 13]);
    await storage.put('challenges/c1/tests/1.in', '1 2\n');
    await storage.put('challenges/c1/tests/1.out', binary);
    expect((await storage.get('challenges/c1/tests/1.in'))?.toString()).toBe('1 2\n');
    expect(await storage.get('challenges/c1/tests/1.out')).toEqual(binary);
    expect(await storage.get('challenges/c1/tests/9.in')).toBeNull();
    await storage.put('challenges/c1/tests/1.in', 'replaced');
    expect((await storage.get('challenges/c1/tests/1.in'))?.toString()).toBe('replaced');
  });

  it('deletes everything under a prefix, and only that', async () => {
    const { storage } = driver;
    for (let index = 0; index < 30; index++)
      await storage.put(`challenges/big/tests/${index}.in`, String(index));
    await storage.put('challenges/bigger/tests/1.in', 'keep');
    await storage.deletePrefix('challenges/big');
    expect(await storage.get('challenges/big/tests/7.in')).toBeNull();
    expect((await storage.get('challenges/bigger/tests/1.in'))?.toString()).toBe('keep');
    await storage.check();
  });

  it('deletes exactly the keys it is given, missing ones included', async () => {
    const { storage } = driver;
    await storage.put('challenges/keys/tests/a.in', 'a');
    await storage.put('challenges/keys/tests/a.out', 'A');
    await storage.put('challenges/keys/tests/b.in', 'b');
    await storage.deleteKeys([
      'challenges/keys/tests/a.in',
      'challenges/keys/tests/a.out',
      'challenges/keys/tests/never.in',
    ]);
    expect(await storage.get('challenges/keys/tests/a.in')).toBeNull();
    expect(await storage.get('challenges/keys/tests/a.out')).toBeNull();
    expect((await storage.get('challenges/keys/tests/b.in'))?.toString()).toBe('b');
    await storage.deleteKeys([]);
  });

  it('refuses keys that could escape its place', async () => {
    await expect(driver.storage.put('../outside', 'x')).rejects.toThrow(/not a storage key/);
    await expect(driver.storage.get('/etc/passwd')).rejects.toThrow(/not a storage key/);
  });
});

describe('the S3 driver', () => {
  it('keeps objects under its URL prefix and fails loudly with the wrong credentials', async () => {
    const double = await startS3Double({ bucket: 'assay-test', accessKeyId: 'right-key' });
    const settings = {
      url: 's3://assay-test/tenant-b',
      endpoint: double.endpoint,
      region: 'us-east-1',
      secretAccessKey: 'secret',
      forcePathStyle: true,
    };
    const good = createS3Storage({ ...settings, accessKeyId: 'right-key' });
    const bad = createS3Storage({ ...settings, accessKeyId: 'wrong-key' });
    try {
      await good.put('a/b.txt', 'hello');
      expect([...double.objects.keys()]).toEqual(['tenant-b/a/b.txt']);
      await expect(bad.get('a/b.txt')).rejects.toThrow();
    } finally {
      good.close();
      bad.close();
      await double.close();
    }
  });
});
