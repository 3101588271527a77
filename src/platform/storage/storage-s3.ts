import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { assertStorageKey, checkStorage, type FileStorage } from './storage.ts';

export type S3Settings = {
  /** `s3://bucket` or `s3://bucket/prefix`. */
  url: string;
  /** For S3-compatible services (MinIO, R2, a local test double); unset = AWS. */
  endpoint: string | undefined;
  region: string;
  accessKeyId: string | undefined;
  secretAccessKey: string | undefined;
  forcePathStyle: boolean;
};

/** S3 answers at most 1,000 keys per list and per batch delete. */
const PAGE = 1_000;

export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const parsed = new URL(url);
  if (parsed.protocol !== 's3:' || !parsed.hostname) throw new Error(`not an s3:// URL: ${url}`);
  const prefix = parsed.pathname.replace(/^\/+|\/+$/g, '');
  return { bucket: parsed.hostname, prefix: prefix ? `${prefix}/` : '' };
}

const isMissing = (error: unknown) =>
  error instanceof S3ServiceException &&
  (error.name === 'NoSuchKey' || error.$metadata.httpStatusCode === 404);

/** The storage port on S3 (or anything speaking its API), through the official SDK. */
export function createS3Storage(settings: S3Settings): FileStorage & { close(): void } {
  const { bucket, prefix } = parseS3Url(settings.url);
  const client = new S3Client({
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    // Unset keys fall back to the SDK's own chain (environment, instance role, …).
    ...(settings.accessKeyId && settings.secretAccessKey
      ? {
          credentials: {
            accessKeyId: settings.accessKeyId,
            secretAccessKey: settings.secretAccessKey,
          },
        }
      : {}),
  });
  const objectKey = (key: string) => {
    assertStorageKey(key);
    return `${prefix}${key}`;
  };
  const storage: FileStorage & { close(): void } = {
    kind: 's3',
    location: `s3://${bucket}/${prefix}`,
    async put(key, content) {
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: objectKey(key),
          Body: typeof content === 'string' ? Buffer.from(content) : content,
        }),
      );
    },
    async get(key) {
      try {
        const object = await client.send(
          new GetObjectCommand({ Bucket: bucket, Key: objectKey(key) }),
        );
        return object.Body
          ? Buffer.from(await object.Body.transformToByteArray())
          : Buffer.alloc(0);
      } catch (error) {
        if (isMissing(error)) return null;
        throw error;
      }
    },
    async deletePrefix(keyPrefix) {
      const base = `${objectKey(keyPrefix)}/`;
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: base,
            MaxKeys: PAGE,
            ...(token ? { ContinuationToken: token } : {}),
          }),
        );
        const keys = (page.Contents ?? []).flatMap((object) =>
          object.Key ? [{ Key: object.Key }] : [],
        );
        if (keys.length > 0) {
          const result = await client.send(
            new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }),
          );
          if (result.Errors && result.Errors.length > 0)
            throw new Error(`S3 refused to delete ${result.Errors.length} objects under ${base}`);
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },
    async deleteKeys(keys) {
      for (let start = 0; start < keys.length; start += PAGE) {
        const objects = keys.slice(start, start + PAGE).map((key) => ({ Key: objectKey(key) }));
        const result = await client.send(
          new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }),
        );
        if (result.Errors && result.Errors.length > 0)
          throw new Error(`S3 refused to delete ${result.Errors.length} objects`);
      }
    },
    check: () => checkStorage(storage),
    close: () => client.destroy(),
  };
  return storage;
}
