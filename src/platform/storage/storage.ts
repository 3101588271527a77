import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The storage port: where uploaded files and test data live, by key. The local directory is
 * the default; `STORAGE_URL=s3://bucket/prefix` selects the S3 driver (storage-s3.ts).
 * Keys are relative paths of safe segments (`challenges/<id>/tests/1.in`), never user input.
 */
export type FileStorage = {
  readonly kind: 'local' | 's3';
  /** Where, for doctor and logs (no credentials). */
  readonly location: string;
  put(key: string, content: Buffer | string): Promise<void>;
  /** The stored bytes, or null when there is no such key. */
  get(key: string): Promise<Buffer | null>;
  /** Removes every key under the prefix (a challenge's test data). */
  deletePrefix(prefix: string): Promise<void>;
  /** Removes these keys; missing ones are no error (undoing an upload whose rows failed). */
  deleteKeys(keys: string[]): Promise<void>;
  /** Writes, reads back and removes a probe file. */
  check(): Promise<void>;
};

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** Throws unless every segment is plain: no `..`, no absolute paths, no empty segments. */
export function assertStorageKey(key: string): void {
  const segments = key.split('/');
  if (segments.length === 0 || segments.length > 16 || !segments.every((s) => SEGMENT.test(s)))
    throw new Error(`not a storage key: ${JSON.stringify(key)}`);
}

export async function checkStorage(storage: Pick<FileStorage, 'put' | 'get' | 'deletePrefix'>) {
  const prefix = `_health/${randomUUID()}`;
  await storage.put(`${prefix}/probe`, 'ok');
  const back = await storage.get(`${prefix}/probe`);
  await storage.deletePrefix(prefix);
  if (back?.toString('utf8') !== 'ok')
    throw new Error('storage returned different bytes than were written');
}

export function createLocalStorage(options: {
  dataDir: string;
  storageUrl: string | undefined;
}): FileStorage {
  const root = options.storageUrl?.startsWith('file:')
    ? fileURLToPath(options.storageUrl)
    : resolve(options.dataDir, 'files');
  const pathOf = (key: string) => {
    assertStorageKey(key);
    return join(root, key);
  };
  const storage: FileStorage = {
    kind: 'local',
    location: root,
    async put(key, content) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      // Written aside and renamed: a reader never sees half a file, a crash leaves none.
      const partial = `${path}.${randomUUID()}.partial`;
      await writeFile(partial, content);
      await rename(partial, path);
    },
    async get(key) {
      try {
        return await readFile(pathOf(key));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
    },
    async deletePrefix(prefix) {
      await rm(pathOf(prefix), { recursive: true, force: true });
    },
    async deleteKeys(keys) {
      await Promise.all(keys.map((key) => rm(pathOf(key), { force: true })));
    },
    check: () => checkStorage(storage),
  };
  return storage;
}
