import { createServer, type Server, type Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';

export type ReceivedMail = {
  /** MAIL FROM and RCPT TO as the client sent them. */
  envelope: { from: string | undefined; to: string[] };
  /** The user the client authenticated as, when the server asked for AUTH. */
  user: string | undefined;
  /** The message exactly as it came over DATA; parse it with mailparser's simpleParser. */
  raw: Buffer;
};

export type TestSmtpServer = {
  port: number;
  /** `smtp://127.0.0.1:<port>`, without credentials. */
  url: string;
  /** Every message accepted so far, oldest first. */
  readonly messages: readonly ReceivedMail[];
  /** Refuses the next `count` messages after DATA with `responseCode` (451: try again later). */
  failNext(count: number, responseCode?: number): void;
  /** Messages refused by `failNext` so far. */
  readonly refused: number;
  /** Resolves with the first message (already received or still to come) that matches. */
  waitForMessage(
    match?: (mail: ReceivedMail) => boolean,
    timeoutMs?: number,
  ): Promise<ReceivedMail>;
  close(): Promise<void>;
};

/**
 * A real SMTP server in the test process, plaintext only (no STARTTLS), so a Mailer under test
 * speaks the actual protocol. With `auth`, AUTH PLAIN/LOGIN is required and checked against it.
 */
export async function startSmtpServer(
  options: { auth?: { user: string; pass: string } } = {},
): Promise<TestSmtpServer> {
  const messages: ReceivedMail[] = [];
  const waiters = new Set<() => void>();
  const failing = { count: 0, responseCode: 451, refused: 0 };
  const { auth } = options;
  const server = new SMTPServer({
    logger: false,
    disabledCommands: ['STARTTLS'],
    authOptional: auth === undefined,
    authMethods: ['PLAIN', 'LOGIN'],
    // No TLS here, and AUTH must still be accepted for the credential tests.
    allowInsecureAuth: true,
    // Pooled clients keep connections open; the suite should not wait 30 s for them at close.
    closeTimeout: 500,
    onAuth(credentials, _session, callback) {
      if (auth && credentials.username === auth.user && credentials.password === auth.pass) {
        callback(null, { user: credentials.username });
      } else {
        callback(new Error('Invalid username or password'));
      }
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', callback);
      stream.on('end', () => {
        if (failing.count > 0) {
          failing.count -= 1;
          failing.refused += 1;
          callback(
            Object.assign(new Error('Refused by the test server'), {
              responseCode: failing.responseCode,
            }),
          );
          return;
        }
        const { mailFrom, rcptTo } = session.envelope;
        messages.push({
          envelope: {
            from: mailFrom ? mailFrom.address : undefined,
            to: rcptTo.map((recipient) => recipient.address),
          },
          user: typeof session.user === 'string' ? session.user : undefined,
          raw: Buffer.concat(chunks),
        });
        for (const wake of waiters) wake();
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  if (!address || typeof address === 'string') throw new Error('SMTP server has no port');
  const port = address.port;

  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    failNext(count, responseCode = 451) {
      failing.count = count;
      failing.responseCode = responseCode;
    },
    get refused() {
      return failing.refused;
    },
    waitForMessage(match = () => true, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.find(match);
          if (!found) return false;
          clearTimeout(timer);
          waiters.delete(wake);
          resolve(found);
          return true;
        };
        const wake = () => void check();
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(new Error(`no matching message within ${timeoutMs} ms`));
        }, timeoutMs);
        if (!check()) waiters.add(wake);
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A port that was free a moment ago and has nothing listening: connections are refused. */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

/** Accepts TCP connections and never says a word: an SMTP server that hangs before its greeting. */
export async function startSilentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
