import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for S3 (no S3 is reachable from here), speaking the part of its REST API
 * the storage driver uses: path-style PutObject, GetObject, ListObjectsV2 and DeleteObjects,
 * as the official SDK sends them. It checks that requests are SigV4-signed with the expected
 * access key (not the signature itself), and keeps objects in memory.
 */
export async function startS3Double(options: { bucket: string; accessKeyId: string }) {
  const objects = new Map<string, Buffer>();
  const requests: string[] = [];

  const xml = (res: ServerResponse, status: number, body: string) => {
    res.writeHead(status, { 'content-type': 'application/xml' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
  };
  const escapeXml = (text: string) => text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const error = (res: ServerResponse, status: number, code: string) =>
    xml(res, status, `<Error><Code>${code}</Code><Message>${code}</Message></Error>`);

  const bodyOf = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    // The SDK may stream with aws-chunked encoding: `<hex size>[;ext]\r\n<data>\r\n` … `0\r\n`.
    if (!/aws-chunked/.test(String(req.headers['content-encoding'] ?? ''))) return raw;
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const end = raw.indexOf('\r\n', at);
      const size = Number.parseInt(raw.subarray(at, end).toString().split(';')[0] ?? '0', 16);
      if (!size) break;
      parts.push(raw.subarray(end + 2, end + 2 + size));
      at = end + 2 + size + 2;
    }
    return Buffer.concat(parts);
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://s3.local');
      requests.push(`${req.method} ${url.pathname}${url.search}`);
      const auth = String(req.headers.authorization ?? '');
      if (!auth.startsWith(`AWS4-HMAC-SHA256 Credential=${options.accessKeyId}/`))
        return error(res, 403, 'AccessDenied');
      const [, bucket, ...rest] = url.pathname.split('/');
      if (bucket !== options.bucket) return error(res, 404, 'NoSuchBucket');
      const key = decodeURIComponent(rest.join('/'));
      const body = await bodyOf(req);
      if (req.method === 'PUT' && key) {
        objects.set(key, body);
        res.writeHead(200, { etag: '"double"' });
        return res.end();
      }
      if (req.method === 'GET' && key) {
        const object = objects.get(key);
        if (!object) return error(res, 404, 'NoSuchKey');
        res.writeHead(200, { 'content-length': object.length });
        return res.end(object);
      }
      if (req.method === 'GET' && url.searchParams.get('list-type') === '2') {
        const prefix = url.searchParams.get('prefix') ?? '';
        const max = Number(url.searchParams.get('max-keys') ?? 1000);
        const after = url.searchParams.get('continuation-token') ?? '';
        const keys = [...objects.keys()]
          .filter((candidate) => candidate.startsWith(prefix) && candidate > after)
          .sort();
        const page = keys.slice(0, max);
        const truncated = keys.length > max;
        return xml(
          res,
          200,
          `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${bucket}</Name><Prefix>${escapeXml(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${max}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${page
            .map(
              (k) =>
                `<Contents><Key>${escapeXml(k)}</Key><Size>${objects.get(k)?.length ?? 0}</Size></Contents>`,
            )
            .join(
              '',
            )}${truncated ? `<NextContinuationToken>${escapeXml(page[page.length - 1] ?? '')}</NextContinuationToken>` : ''}</ListBucketResult>`,
        );
      }
      if (req.method === 'POST' && url.searchParams.has('delete')) {
        const keys = [...body.toString().matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) =>
          (m[1] ?? '').replace(/&#(\d+);|&amp;|&lt;|&gt;|&quot;|&apos;/g, (entity, code) =>
            code
              ? String.fromCharCode(Number(code))
              : ((
                  {
                    '&amp;': '&',
                    '&lt;': '<',
                    '&gt;': '>',
                    '&quot;': '"',
                    '&apos;': "'",
                  } as Record<string, string>
                )[entity] ?? entity),
          ),
        );
        for (const k of keys) objects.delete(k);
        return xml(
          res,
          200,
          '<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></DeleteResult>',
        );
      }
      return error(res, 501, 'NotImplemented');
    })().catch(() => error(res, 500, 'InternalError'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    objects,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
