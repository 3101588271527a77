import { simpleParser } from 'mailparser';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './support/app.ts';
import { bearer, csrf, latestCode, mailbox, STRONG_PASSWORD, signedIn } from './support/auth.ts';
import { startSmtpServer, type TestSmtpServer } from './support/smtp-server.ts';

describe('sign-up by emailed code', () => {
  let t: TestApp;
  let smtp: TestSmtpServer | undefined;
  afterEach(async () => {
    await t.close();
    await smtp?.close();
    smtp = undefined;
  });

  const register = (email: string, extra: Record<string, unknown> = {}) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { name: 'Ada', email, password: STRONG_PASSWORD, ...extra },
    });

  const verify = async (email: string, otp: string, withCsrf = true) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/verify-otp',
      ...(withCsrf ? await csrf(t) : {}),
      payload: { email, otp },
    });

  it('sends the code over real SMTP, and the code activates the account with 10 credits', async () => {
    smtp = await startSmtpServer();
    t = await createTestApp({ env: { SMTP_URL: smtp.url } });
    const response = await register('ada@example.com');
    expect(response.statusCode).toBe(202);
    const body = response.json();
    expect(body.message).toEqual(expect.any(String));
    expect(new Date(body.expiresAt).getTime() - t.clock.now().getTime()).toBe(5 * 60 * 1000);

    const mail = await smtp.waitForMessage((message) =>
      message.envelope.to.includes('ada@example.com'),
    );
    const parsed = await simpleParser(mail.raw);
    expect(parsed.html).toBeTruthy();
    const code = parsed.text?.match(/\b[A-Z0-9]{6}\b/)?.[0];
    expect(code).toMatch(/^[A-Z0-9]{6}$/);
    expect(parsed.html).toContain(code);
    // The code never reaches the logs.
    expect(JSON.stringify(t.logs)).not.toContain(code);

    const verified = await verify('ada@example.com', code!);
    expect(verified.statusCode).toBe(201);
    const session = verified.json();
    expect(session).toMatchObject({
      tokenType: 'bearer',
      expiresIn: 900,
      user: { email: 'ada@example.com', role: 'student' },
    });
    expect(session.refreshToken).toEqual(expect.any(String));
    const me = await t.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: bearer(session),
    });
    expect(me.json()).toMatchObject({
      email: 'ada@example.com',
      name: 'Ada',
      role: 'student',
      credits: 10,
    });
    expect(me.json().createdAt).toEqual(expect.any(String));
    const audited = (await t.deps.audit.list({ limit: 10 })).items.map((entry) => entry.action);
    expect(audited).toEqual(expect.arrayContaining(['auth.register', 'auth.verify']));
  });

  it('writes mail to DATA_DIR/mail as .eml with text and HTML when no SMTP is configured', async () => {
    t = await createTestApp();
    await register('files@example.com');
    const [mail] = await mailbox(t);
    expect(mail?.to).toContain('files@example.com');
    expect(mail?.text).toMatch(/\b[A-Z0-9]{6}\b/);
    expect(mail?.html).toContain('<');
    const logged = t.logs.find((line) => line.msg === 'mail written to file');
    expect(String(logged?.file)).toContain(mail!.file);
    expect(JSON.stringify(t.logs)).not.toContain(await latestCode(t, 'files@example.com'));
  });

  it('requires the CSRF token on verify-otp', async () => {
    t = await createTestApp();
    await register('csrf@example.com');
    const code = await latestCode(t, 'csrf@example.com');
    const without = await verify('csrf@example.com', code, false);
    expect(without.statusCode).toBe(403);
    expect(without.json().code).toBe('CSRF_INVALID');
    const forged = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/verify-otp',
      headers: { 'x-csrf-token': 'made-up' },
      cookies: (await csrf(t)).cookies,
      payload: { email: 'csrf@example.com', otp: code },
    });
    expect(forged.statusCode).toBe(403);
    expect((await verify('csrf@example.com', code)).statusCode).toBe(201);
  });

  it('locks a code after 5 wrong tries; a new code is needed', async () => {
    t = await createTestApp();
    await register('lock@example.com');
    const code = await latestCode(t, 'lock@example.com');
    const wrong = code === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA';
    const statuses: Array<[number, string]> = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      const response = await verify('lock@example.com', wrong);
      statuses.push([response.statusCode, response.json().code]);
    }
    expect(statuses.slice(0, 4)).toEqual(Array(4).fill([400, 'OTP_INVALID']));
    expect(statuses[4]).toEqual([423, 'OTP_LOCKED']);
    const right = await verify('lock@example.com', code);
    expect(right.statusCode).toBe(423);
    expect(right.json().code).toBe('OTP_LOCKED');

    const resent = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/resend-otp',
      payload: { email: 'lock@example.com' },
    });
    expect(resent.statusCode).toBe(202);
    const fresh = await latestCode(t, 'lock@example.com');
    expect(fresh).not.toBe(code);
    expect((await verify('lock@example.com', fresh)).statusCode).toBe(201);
  });

  it('expires a code after 5 minutes (test clock)', async () => {
    t = await createTestApp();
    await register('late@example.com');
    const code = await latestCode(t, 'late@example.com');
    t.clock.advance(5 * 60 * 1000 - 1_000);
    t.clock.advance(1_000);
    const response = await verify('late@example.com', code);
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe('OTP_EXPIRED');
  });

  it('accepts a code just before it expires, in any letter case', async () => {
    t = await createTestApp();
    await register('case@example.com');
    const code = await latestCode(t, 'case@example.com');
    t.clock.advance(5 * 60 * 1000 - 1);
    expect((await verify('case@example.com', ` ${code.toLowerCase()} `)).statusCode).toBe(201);
  });

  it('sends at most 3 codes per email per hour, then 429 with Retry-After', async () => {
    t = await createTestApp();
    expect((await register('busy@example.com')).statusCode).toBe(202);
    t.clock.advance(10 * 60 * 1000);
    for (let index = 0; index < 2; index++) {
      const again = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/resend-otp',
        payload: { email: 'busy@example.com' },
      });
      expect(again.statusCode).toBe(202);
    }
    const limited = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/resend-otp',
      payload: { email: 'busy@example.com' },
    });
    expect(limited.statusCode).toBe(429);
    expect(limited.json().code).toBe('RATE_LIMITED');
    // The first send leaves the window 50 minutes from now.
    expect(Number(limited.headers['retry-after'])).toBe(50 * 60);
    expect((await mailbox(t)).length).toBe(3);
    t.clock.advance(50 * 60 * 1000 + 1);
    const later = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/resend-otp',
      payload: { email: 'busy@example.com' },
    });
    expect(later.statusCode).toBe(202);
  });

  it('answers a registered email exactly like a new one, and tells the owner instead', async () => {
    t = await createTestApp();
    await signedIn(t, 'student', 'taken@example.com');
    const fresh = await register('someone-new@example.com');
    const taken = await register('taken@example.com', { name: 'Mallory' });
    expect(taken.statusCode).toBe(fresh.statusCode);
    expect(Object.keys(taken.json()).sort()).toEqual(Object.keys(fresh.json()).sort());
    expect(taken.json().message).toBe(fresh.json().message);
    const notice = (await mailbox(t)).find((mail) => mail.to.includes('taken@example.com'));
    expect(notice?.subject).toMatch(/tried to sign up/);
    expect(notice?.text).not.toMatch(/\b[A-Z0-9]{6}\b/);
    // The existing account keeps its password.
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'taken@example.com', password: STRONG_PASSWORD },
    });
    expect(login.statusCode).toBe(200);
  });

  it('refuses common and malformed passwords with a 400 naming the field', async () => {
    t = await createTestApp();
    for (const password of ['password123', 'qwertyuiop', 'short', 'x'.repeat(129)]) {
      const response = await register('weak@example.com', { password });
      expect(response.statusCode, password).toBe(400);
      expect(response.json().errors[0].path).toBe('body.password');
    }
    expect(
      (await register('weak@example.com', { password: 'ok-this-one-is-fine-42' })).statusCode,
    ).toBe(202);
  });

  it('refuses bad input with problem documents, never a 500', async () => {
    t = await createTestApp();
    const cases: Array<[unknown, number]> = [
      [{}, 400],
      [{ name: 'A', email: 'a@example.com' }, 400],
      [{ name: 42, email: 'a@example.com', password: STRONG_PASSWORD }, 400],
      [{ name: 'A', email: 'not-an-email', password: STRONG_PASSWORD }, 400],
      [{ name: 'A', email: 'аdmin@example.com', password: STRONG_PASSWORD }, 400], // Cyrillic а
      [{ name: 'A', email: 'ad\u200bmin@example.com', password: STRONG_PASSWORD }, 400], // zero-width space
      [{ name: 'A\u202e', email: 'rtl@example.com', password: STRONG_PASSWORD }, 400],
      [{ name: 'A', email: 'a@example.com', password: STRONG_PASSWORD, role: 'admin' }, 400],
    ];
    for (const [payload, status] of cases) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        payload: payload as object,
      });
      expect(response.statusCode, JSON.stringify(payload)).toBe(status);
      expect(response.headers['content-type']).toMatch(/problem\+json/);
    }
    const huge = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({
        name: 'x'.repeat(10 * 1024 * 1024),
        email: 'a@example.com',
        password: STRONG_PASSWORD,
      }),
    });
    expect(huge.statusCode).toBe(413);
    expect(huge.json().code).toBe('PAYLOAD_TOO_LARGE');
    const notJson = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/xml' },
      payload: '<a/>',
    });
    expect(notJson.statusCode).toBe(415);
  });

  it('never lets a second sign-up change a waiting account: only the code of a request applies its password', async () => {
    t = await createTestApp();
    await register('victim@example.com', { password: 'victims-own-passphrase-1' });
    const victimCode = await latestCode(t, 'victim@example.com');
    await register('victim@example.com', { name: 'Mallory', password: 'mallorys-passphrase-2' });
    const mails = await mailbox(t);
    expect(mails.at(-1)?.text).toContain('Mallory');
    // Re-registering changed nothing yet: the account still waits, with no usable password.
    const attacker = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'victim@example.com', password: 'mallorys-passphrase-2' },
    });
    expect(attacker.json().code).not.toBe(undefined);
    expect(attacker.statusCode).not.toBe(200);
    // The older code was replaced by the newer request's code.
    expect((await verify('victim@example.com', victimCode)).statusCode).toBe(400);
  });

  it('counts parallel requests against the hourly limit exactly', async () => {
    t = await createTestApp();
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        t.app.inject({
          method: 'POST',
          url: '/api/v1/auth/resend-otp',
          payload: { email: 'flood@example.com' },
        }),
      ),
    );
    expect(results.filter((result) => result.statusCode === 202)).toHaveLength(3);
    expect(results.filter((result) => result.statusCode === 429)).toHaveLength(7);
  });

  it('answers wrong codes the same whether or not the address has an account', async () => {
    t = await createTestApp();
    await register('real@example.com');
    await mailbox(t);
    const real = await verify('real@example.com', 'ZZZZZZ');
    const ghost = await verify('ghost@example.com', 'ZZZZZZ');
    expect(real.statusCode).toBe(ghost.statusCode);
    expect(real.json().detail).toBe(ghost.json().detail);
    expect(real.json().code).toBe(ghost.json().code);
  });
});
