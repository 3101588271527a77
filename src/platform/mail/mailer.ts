import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from '../logger/logger.ts';

export type MailMessage = { to: string; subject: string; text: string; html: string };
/** `messageId` is the Message-ID header, angle brackets included; `file` is set in files mode. */
export type SentMail = { messageId: string; file?: string };

export type Mailer = {
  readonly kind: 'smtp' | 'files';
  send(message: MailMessage): Promise<SentMail>;
  /** Checks the transport answers (SMTP: connection + greeting; files: the directory is writable). */
  verify(): Promise<void>;
  close(): Promise<void>;
};

/**
 * A failed send or verify. The message names the server but never the credentials, and the
 * nodemailer error is not kept as `cause`: its `command` can carry the AUTH exchange.
 */
export class MailError extends Error {
  override readonly name = 'MailError';
  /** nodemailer's code (`ECONNECTION`, `ETIMEDOUT`, `EAUTH`, `EENVELOPE`, ...). */
  readonly code: string | undefined;
  /** The SMTP reply code when the server refused (5xx permanent, 4xx worth a retry). */
  readonly responseCode: number | undefined;

  constructor(message: string, details: { code?: string; responseCode?: number }) {
    super(message);
    this.code = details.code;
    this.responseCode = details.responseCode;
  }
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** Messages are strings we build; nodemailer is never to read a path or fetch a URL for them. */
const CONTENT_ONLY = { disableFileAccess: true, disableUrlAccess: true } as const;

/** Only the four fields go to nodemailer, whatever else the caller's object carries. */
function compose(from: string, message: MailMessage) {
  const { to, subject, text, html } = message;
  return { from, to, subject, text, html };
}

/** SMTP when a URL is configured; otherwise every message lands as an .eml file under DATA_DIR. */
export function createMailer(options: {
  smtpUrl: string | undefined;
  from: string;
  dataDir: string;
  logger: Logger;
  /** Bound on connecting, the greeting and each socket wait (10 s by default). */
  timeoutMs?: number;
}): Mailer {
  return options.smtpUrl
    ? createSmtpMailer({ ...options, smtpUrl: options.smtpUrl })
    : createFileMailer(options);
}

function createSmtpMailer(options: {
  smtpUrl: string;
  from: string;
  logger: Logger;
  timeoutMs?: number;
}): Mailer {
  const server = describeServer(options.smtpUrl);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // Query options of the URL (requireTLS, tls.*, pool sizes, timeouts) win over these defaults.
  const transport = nodemailer.createTransport({
    url: options.smtpUrl,
    pool: true,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    dnsTimeout: timeoutMs,
    ...CONTENT_ONLY,
    // nodemailer's own logging can include the SMTP dialogue; failures reach the caller instead.
    logger: false,
    debug: false,
  });
  const fail = (what: string, error: unknown) =>
    toMailError(`${what} ${server.name} failed`, error, server.secrets);

  return {
    kind: 'smtp',
    async send(message) {
      try {
        const info = await transport.sendMail(compose(options.from, message));
        options.logger.info(
          { messageId: info.messageId, to: message.to, subject: message.subject },
          'mail sent',
        );
        return { messageId: info.messageId };
      } catch (error) {
        throw fail('sending mail through', error);
      }
    },
    async verify() {
      try {
        await transport.verify();
      } catch (error) {
        throw fail('checking', error);
      }
    },
    async close() {
      // Idle pooled connections quit now; one in the middle of a message finishes it first.
      transport.close();
    },
  };
}

function createFileMailer(options: { from: string; dataDir: string; logger: Logger }): Mailer {
  const directory = resolve(options.dataDir, 'mail');
  // nodemailer composes the message exactly as it would for SMTP; CRLF as RFC 5322 wants.
  const composer = nodemailer.createTransport({
    streamTransport: true,
    buffer: true,
    newline: 'windows',
    ...CONTENT_ONLY,
  });

  return {
    kind: 'files',
    async send(message) {
      const info = await composer.sendMail(compose(options.from, message));
      if (!Buffer.isBuffer(info.message)) throw new Error('nodemailer returned a stream');
      const name = `${new Date().toISOString().replaceAll(':', '-')}-${randomBytes(4).toString('hex')}.eml`;
      // The messages hold one-time codes: private files, and written under a temporary name so
      // whoever watches the directory never reads half a message.
      await mkdir(directory, { recursive: true, mode: 0o700 });
      const partial = join(directory, `.${name}.partial`);
      const file = join(directory, name);
      await writeFile(partial, info.message, { mode: 0o600 });
      await rename(partial, file);
      options.logger.info(
        { file, to: message.to, subject: message.subject },
        'mail written to file',
      );
      return { messageId: info.messageId, file };
    },
    async verify() {
      await mkdir(directory, { recursive: true, mode: 0o700 });
      const probe = join(directory, `.probe-${randomUUID()}`);
      await writeFile(probe, 'ok');
      await rm(probe, { force: true });
    },
    async close() {},
  };
}

/** The server as it may appear in messages, and the strings that must never appear. */
function describeServer(smtpUrl: string): { name: string; secrets: string[] } {
  let url: URL;
  try {
    url = new URL(smtpUrl);
  } catch {
    // Not echoed: the string may hold a password.
    throw new Error('SMTP URL is not a valid URL');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new Error('SMTP URL must start with smtp:// or smtps://');
  }
  const port = url.port || (url.protocol === 'smtps:' ? '465' : '587');
  const secrets = [url.password, safeDecode(url.password)].filter((secret) => secret.length > 0);
  return { name: `${url.protocol}//${url.hostname}:${port}`, secrets };
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function toMailError(prefix: string, error: unknown, secrets: readonly string[]): MailError {
  const details = typeof error === 'object' && error !== null ? error : {};
  let reason = error instanceof Error ? error.message : String(error);
  for (const secret of secrets) reason = reason.replaceAll(secret, '[redacted]');
  const code = 'code' in details && typeof details.code === 'string' ? details.code : undefined;
  const responseCode =
    'responseCode' in details && typeof details.responseCode === 'number'
      ? details.responseCode
      : undefined;
  return new MailError(`${prefix}: ${reason}`, { code, responseCode });
}
