import type { Config } from '../config/config.ts';
import { createLocalStorage, type FileStorage } from './storage.ts';
import { createS3Storage } from './storage-s3.ts';

/** The configured driver: S3 for `STORAGE_URL=s3://…`, the local directory otherwise. */
export function createStorage(
  config: Pick<Config, 'dataDir' | 'storageUrl' | 's3'>,
): FileStorage & { close(): void } {
  if (config.storageUrl?.startsWith('s3:'))
    return createS3Storage({ url: config.storageUrl, ...config.s3 });
  return {
    ...createLocalStorage({ dataDir: config.dataDir, storageUrl: config.storageUrl }),
    close: () => undefined,
  };
}
