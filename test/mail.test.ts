import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AddressObject, type ParsedMail, simpleParser } from 'mailparser';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/platform/logger/logger.ts';
import { createMailer, MailError, type Mailer } from '../src/platform/mail/mailer.ts';
import { renderMail } from '../src/platform/mail/render.ts';
import { startSilentServer, startSmtpServer, unusedPort } from './support/smtp-server.ts';

const CODE = 'A9K3X7';
const FROM = 'Assay <no-reply@assay.test>';

const signInMail = (to: string) => ({
  to,
  subject: 'Your sign-in code',
  ...renderMail({
    title: 'Sign in to Assay',
    paragraphs: ['Use this code to sign in:', 'It expires in 10 minutes.'],
    code: CODE,
  }),
});

const codeIn = (text: string | undefined) => text?.match(/\b[A-Z0-9]{6}\b/)?.[0];

const recipients = (to: ParsedMail['to']) =>
  ([] as AddressObject[])
    .concat(to ?? [])
    .flatMap((group) => group.value.map((address) => address.address));

/** A logger whose lines the test can read back. */
function capturedLogger() {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: { write: (line) => lines.push(line) },
  });
  return { logger, all: () => lines.join('') };
}

describe('mailer', () => {
  let cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    // Reverse order: mailers quit their connections before the servers stop.
    for (const step of cleanup.reverse()) await step();
    cleanup = [];
  });
  const track = (mailer: Mailer) => {
    cleanup.push(() => mailer.close());
    return mailer;
  };
  const tempDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'assay-mail-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    return dir;
  };

  describe('through SMTP', () => {
    it('delivers a message with text and HTML parts whose code can be read back', async () => {
      const server = await startSmtpServer();
      cleanup.push(() => server.close());
      const { logger, all } = capturedLogger();
      const mailer = track(
        createMailer({ smtpUrl: server.url, from: FROM, dataDir: await tempDir(), logger }),
      );
      expect(mailer.kind).toBe('smtp');
      await mailer.verify();

      const sent = await mailer.send(signInMail('ada@example.com'));
      const received = await server.waitForMessage();
      const parsed = await simpleParser(received.raw);

      expect(received.envelope.to).toEqual(['ada@example.com']);
      expect(recipients(parsed.to)).toEqual(['ada@example.com']);
      expect(parsed.from?.value[0]?.address).toBe('no-reply@assay.test');
      expect(parsed.subject).toBe('Your sign-in code');
      expect(parsed.messageId).toBe(sent.messageId);
      expect(sent.file).toBeUndefined();
      expect(parsed.html).toContain(CODE);
      expect(codeIn(parsed.text)).toBe(CODE);
      expect(all()).not.toContain(CODE);
    });

    it('authenticates with the credentials in the URL and keeps a rejected password out of the error', async () => {
      const password = 'p@ss:w0rd/ok';
      const wrong = 'wr0ng-p@ss%word';
      const server = await startSmtpServer({ auth: { user: 'mailer', pass: password } });
      cleanup.push(() => server.close());
      const { logger, all } = capturedLogger();
      const urlWith = (pass: string) =>
        `smtp://mailer:${encodeURIComponent(pass)}@127.0.0.1:${server.port}`;
      const dataDir = await tempDir();

      const good = track(createMailer({ smtpUrl: urlWith(password), from: FROM, dataDir, logger }));
      await good.verify();
      await good.send(signInMail('ada@example.com'));
      expect((await server.waitForMessage()).user).toBe('mailer');

      const bad = track(createMailer({ smtpUrl: urlWith(wrong), from: FROM, dataDir, logger }));
      const failure = await bad
        .send(signInMail('bob@example.com'))
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(MailError);
      const { message, code } = failure as MailError;
      expect(message).toContain(`smtp://127.0.0.1:${server.port}`);
      expect(code).toBe('EAUTH');
      for (const secret of [wrong, encodeURIComponent(wrong), password]) {
        expect(message).not.toContain(secret);
        expect(all()).not.toContain(secret);
      }
      await expect(bad.verify()).rejects.toThrow(MailError);
      expect(server.messages).toHaveLength(1);
    });

    it('fails at once when nothing listens on the port', async () => {
      const port = await unusedPort();
      const mailer = track(
        createMailer({
          smtpUrl: `smtp://127.0.0.1:${port}`,
          from: FROM,
          dataDir: await tempDir(),
          logger: createLogger({ level: 'silent' }),
          timeoutMs: 300,
        }),
      );
      const started = performance.now();
      await expect(mailer.send(signInMail('ada@example.com'))).rejects.toThrow(
        `sending mail through smtp://127.0.0.1:${port} failed`,
      );
      await expect(mailer.verify()).rejects.toThrow(MailError);
      expect(performance.now() - started).toBeLessThan(5_000);
    });

    it('gives up on a server that accepts the connection but never greets', async () => {
      const silent = await startSilentServer();
      cleanup.push(() => silent.close());
      const mailer = track(
        createMailer({
          smtpUrl: `smtp://127.0.0.1:${silent.port}`,
          from: FROM,
          dataDir: await tempDir(),
          logger: createLogger({ level: 'silent' }),
          timeoutMs: 300,
        }),
      );
      const started = performance.now();
      const failure = await mailer.send(signInMail('ada@example.com')).catch((error) => error);
      expect(failure).toBeInstanceOf(MailError);
      expect((failure as MailError).code).toBe('ETIMEDOUT');
      expect(performance.now() - started).toBeLessThan(5_000);
    });

    it('refuses a URL that is not smtp:// or smtps:// without echoing it', () => {
      const make = (smtpUrl: string) => () =>
        createMailer({
          smtpUrl,
          from: FROM,
          dataDir: '.',
          logger: createLogger({ level: 'silent' }),
        });
      expect(make('http://user:hunter22@mail.example.com')).toThrow(/smtp:\/\/ or smtps:\/\//);
      expect(make('not a url hunter22')).toThrow('SMTP URL is not a valid URL');
    });
  });

  describe('to files', () => {
    it('writes one complete .eml per message and logs where, never what', async () => {
      const dataDir = await tempDir();
      const { logger, all } = capturedLogger();
      const mailer = track(createMailer({ smtpUrl: undefined, from: FROM, dataDir, logger }));
      expect(mailer.kind).toBe('files');
      await mailer.verify();

      const sent = await mailer.send(signInMail('ada@example.com'));

      const files = await readdir(join(dataDir, 'mail'));
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}Z-[0-9a-f]+\.eml$/);
      expect(sent.file).toBe(join(dataDir, 'mail', files[0]!));

      const parsed = await simpleParser(await readFile(sent.file!));
      expect(parsed.headers.get('content-type')).toMatchObject({ value: 'multipart/alternative' });
      expect(recipients(parsed.to)).toEqual(['ada@example.com']);
      expect(parsed.from?.value[0]?.address).toBe('no-reply@assay.test');
      expect(parsed.subject).toBe('Your sign-in code');
      expect(parsed.date).toBeInstanceOf(Date);
      expect(parsed.messageId).toBe(sent.messageId);
      expect(parsed.html).toContain(CODE);
      expect(codeIn(parsed.text)).toBe(CODE);

      const lines = all()
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(lines).toEqual([
        expect.objectContaining({
          msg: 'mail written to file',
          file: sent.file,
          to: 'ada@example.com',
          subject: 'Your sign-in code',
        }),
      ]);
      expect(all()).not.toContain(CODE);
    });

    it('keeps every message when several are sent at once', async () => {
      const dataDir = await tempDir();
      const mailer = track(
        createMailer({
          smtpUrl: undefined,
          from: FROM,
          dataDir,
          logger: createLogger({ level: 'silent' }),
        }),
      );
      const sent = await Promise.all(
        ['a', 'b', 'c'].map((name) => mailer.send(signInMail(`${name}@example.com`))),
      );
      const files = await readdir(join(dataDir, 'mail'));
      expect(files.sort()).toEqual(sent.map((mail) => mail.file!.split('/').pop()).sort());
    });
  });
});

describe('renderMail', () => {
  it('escapes what it interpolates and shows the code in both parts', () => {
    const { text, html } = renderMail({
      title: '<script>alert("x")</script> & more',
      paragraphs: ['Tom & "Jerry" <b>bold</b>'],
      code: CODE,
    });
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more');
    expect(html).toContain('Tom &amp; &quot;Jerry&quot; &lt;b&gt;bold&lt;/b&gt;');
    expect(html).toContain(`>${CODE}</p>`);
    expect(text).toContain('<script>alert("x")</script> & more');
    expect(codeIn(text)).toBe(CODE);
  });

  it('puts the code after the first paragraph and leaves it out when there is none', () => {
    const { text } = renderMail({
      title: 'Sign in',
      paragraphs: ['Use this code:', 'It expires soon.'],
      code: CODE,
    });
    expect(text).toBe(`Sign in\n\nUse this code:\n\n    ${CODE}\n\nIt expires soon.\n`);
    const plain = renderMail({ title: 'Welcome', paragraphs: ['Hello.'] });
    expect(plain.text).toBe('Welcome\n\nHello.\n');
    expect(plain.html).not.toContain('letter-spacing');
  });
});
