import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';

class FakeQueryError extends Error {
  query = 'insert into "refresh_tokens" ("token_hash") values ($1)';
  params = ['c0ffee-secret-token-hash'];
  constructor() {
    super(
      'Failed query: insert into "refresh_tokens" ("token_hash") values ($1)\nparams: c0ffee-secret-token-hash',
    );
    this.name = 'DrizzleQueryError';
    this.cause = Object.assign(new Error('duplicate key value violates unique constraint'), {
      code: '23505',
    });
  }
}

describe('logger', () => {
  const capture = () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    return { lines, logger: createLogger({ level: 'info', destination }) };
  };

  it('logs failed queries without their parameters', () => {
    const { lines, logger } = capture();
    logger.error({ err: new FakeQueryError() }, 'boom');
    const text = lines.join('');
    expect(text).not.toContain('c0ffee-secret-token-hash');
    expect(text).toContain('refresh_tokens');
    expect(text).toContain('23505');
  });

  it('logs a live object hung on an error by its class name, not its contents', () => {
    // What pg-pool does when an idle connection dies: the error carries the whole client.
    class Client {
      connectionParameters = { user: 'assay', ssl: { key: '-----BEGIN PRIVATE KEY----- k3y' } };
    }
    const error = Object.assign(new Error('terminating connection'), {
      code: '57P01',
      client: new Client(),
    });
    const { lines, logger } = capture();
    logger.warn({ err: error }, 'idle database connection lost');
    const line = JSON.parse(lines.join('')) as { err: Record<string, unknown> };
    expect(line.err).toMatchObject({ message: 'terminating connection', code: '57P01' });
    expect(line.err.client).toBe('[Client]');
    expect(lines.join('')).not.toContain('PRIVATE KEY');
  });

  it('redacts credentials in request headers and bodies', () => {
    const { lines, logger } = capture();
    logger.info(
      {
        req: { headers: { authorization: 'Bearer abc.def.ghi' } },
        body: { password: 'hunter22', otp: 'A9K3X7' },
      },
      'x',
    );
    const text = lines.join('');
    expect(text).not.toContain('abc.def.ghi');
    expect(text).not.toContain('hunter22');
    expect(text).not.toContain('A9K3X7');
  });
});
