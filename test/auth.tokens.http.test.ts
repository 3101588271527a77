import { createHmac } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './support/app.ts';
import { bearer, csrf, latestCode, login, STRONG_PASSWORD, signedIn } from './support/auth.ts';

const SECRET = 'test-secret-that-is-long-enough-0123456789';

describe('tokens and sessions', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { JWT_SECRET: SECRET } });
  });
  afterAll(async () => {
    await t.close();
  });

  const me = (accessToken: string) =>
    t.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { authorization: `Bearer ${accessToken}` },
    });
  const refresh = (refreshToken: string) =>
    t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken } });

  it('signs access tokens for 15 minutes and refuses them once expired (test clock)', async () => {
    const session = await signedIn(t, 'student');
    expect(session).toMatchObject({ tokenType: 'bearer', expiresIn: 900 });
    expect((await me(session.accessToken)).statusCode).toBe(200);
    t.clock.advance(15 * 60 * 1000 + 1_000);
    const expired = await me(session.accessToken);
    expect(expired.statusCode).toBe(401);
    expect(expired.json().code).toBe('UNAUTHENTICATED');
    expect(expired.headers['www-authenticate']).toBe('Bearer');
  });

  it('refuses alg:none, another algorithm, a bad signature and garbage', async () => {
    const session = await signedIn(t, 'admin');
    const [header, payload, signature] = session.accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    const hs512 = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS512' })
      .sign(new TextEncoder().encode(SECRET));
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, role: 'admin', sub: 'someone-else' })).toString('base64url')}.${signature}`;
    const otherKey = `${header}.${payload}.${createHmac('sha256', 'another-secret').update(`${header}.${payload}`).digest('base64url')}`;
    for (const token of [none, hs512, forged, otherKey, 'not.a.jwt', 'x']) {
      const response = await me(token);
      expect(response.statusCode, token.slice(0, 30)).toBe(401);
    }
    expect(
      (
        await t.app.inject({
          method: 'GET',
          url: '/api/v1/auth/me',
          headers: { authorization: 'Basic abc' },
        })
      ).statusCode,
    ).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me' })).statusCode).toBe(401);
    // Never from a cookie or the query string.
    expect(
      (
        await t.app.inject({
          method: 'GET',
          url: `/api/v1/auth/me?access_token=${session.accessToken}`,
        })
      ).statusCode,
    ).toBe(401);
    expect(
      (
        await t.app.inject({
          method: 'GET',
          url: '/api/v1/auth/me',
          cookies: { access_token: session.accessToken },
        })
      ).statusCode,
    ).toBe(401);
  });

  it('rotates refresh tokens: each works once, and reuse ends the whole family', async () => {
    const first = await signedIn(t, 'student');
    const second = await refresh(first.refreshToken);
    expect(second.statusCode).toBe(200);
    const rotated = second.json();
    expect(rotated.refreshToken).not.toBe(first.refreshToken);
    expect((await me(rotated.accessToken)).statusCode).toBe(200);
    const third = (await refresh(rotated.refreshToken)).json();

    // A thief replays the first token: refused, and everything descended from it dies.
    const replay = await refresh(first.refreshToken);
    expect(replay.statusCode).toBe(401);
    expect(replay.json().code).toBe('REFRESH_TOKEN_REUSED');
    const owner = await refresh(third.refreshToken);
    expect(owner.statusCode).toBe(401);
    const audit = await t.deps.audit.list({ action: 'auth.refresh_reuse_detected', limit: 10 });
    expect(audit.items.some((entry) => entry.targetId === first.user.id)).toBe(true);
  });

  it('lets exactly one of two parallel refreshes with the same token succeed', async () => {
    const session = await signedIn(t, 'student');
    const results = await Promise.all([
      refresh(session.refreshToken),
      refresh(session.refreshToken),
    ]);
    expect(results.map((result) => result.statusCode).sort()).toEqual([200, 401]);
  });

  it('refuses unknown, expired and malformed refresh tokens', async () => {
    expect((await refresh('no-such-token')).json().code).toBe('INVALID_REFRESH_TOKEN');
    const session = await signedIn(t, 'student');
    t.clock.advance(7 * 24 * 3600 * 1000 + 1_000);
    expect((await refresh(session.refreshToken)).statusCode).toBe(401);
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/api/v1/auth/refresh',
          payload: { refreshToken: 5 },
        })
      ).statusCode,
    ).toBe(400);
  });

  it('logout ends every refresh token and every access token of the user', async () => {
    const email = 'leaving@example.com';
    const phone = await signedIn(t, 'student', email);
    const laptop = await login(t, email);
    const out = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: bearer(phone),
    });
    expect(out.statusCode).toBe(204);
    for (const session of [phone, laptop]) {
      expect((await me(session.accessToken)).statusCode).toBe(401);
      expect((await refresh(session.refreshToken)).statusCode).toBe(401);
    }
    expect((await login(t, email)).accessToken).toEqual(expect.any(String));
  });

  it('changing the password ends other sessions and needs the current password', async () => {
    const email = 'changer@example.com';
    const mine = await signedIn(t, 'instructor', email);
    const other = await login(t, email);
    const wrong = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/change-password',
      headers: bearer(mine),
      payload: { currentPassword: 'not it at all', newPassword: 'a-brand-new-passphrase-9' },
    });
    expect(wrong.statusCode).toBe(403);
    const changed = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/change-password',
      headers: bearer(mine),
      payload: { currentPassword: STRONG_PASSWORD, newPassword: 'a-brand-new-passphrase-9' },
    });
    expect(changed.statusCode).toBe(204);
    expect((await refresh(other.refreshToken)).statusCode).toBe(401);
    expect((await me(other.accessToken)).statusCode).toBe(401);
    // This sign-in carries on: its access token is renewed once with its own refresh token.
    const renewed = await refresh(mine.refreshToken);
    expect(renewed.statusCode).toBe(200);
    expect((await me(renewed.json().accessToken)).statusCode).toBe(200);
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { email, password: STRONG_PASSWORD },
        })
      ).statusCode,
    ).toBe(401);
    expect((await login(t, email, 'a-brand-new-passphrase-9')).user.email).toBe(email);
  });

  it('resets a forgotten password by emailed code; forgot-password never reveals accounts', async () => {
    const email = 'forgetful@example.com';
    const old = await signedIn(t, 'student', email);
    const known = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/forgot-password',
      payload: { email },
    });
    const unknown = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/forgot-password',
      payload: { email: 'nobody@example.com' },
    });
    expect(known.statusCode).toBe(202);
    expect(unknown.statusCode).toBe(202);
    expect(unknown.json()).toEqual(known.json());
    const code = await latestCode(t, email);
    const reset = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/reset-password',
      payload: { email, otp: code, newPassword: 'reset-to-something-long-3' },
    });
    expect(reset.statusCode).toBe(204);
    expect((await refresh(old.refreshToken)).statusCode).toBe(401);
    expect((await login(t, email, 'reset-to-something-long-3')).user.email).toBe(email);
    const again = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/reset-password',
      payload: { email, otp: code, newPassword: 'reset-to-something-else-4' },
    });
    expect(again.statusCode).toBe(400);
  });

  it('gives web clients the refresh token as an httpOnly cookie that needs CSRF to use', async () => {
    const email = 'browser@example.com';
    await signedIn(t, 'student', email);
    const web = { 'x-assay-client': 'web' };
    const signIn = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: web,
      payload: { email, password: STRONG_PASSWORD },
    });
    expect(signIn.statusCode).toBe(200);
    expect(signIn.json().refreshToken).toBeUndefined();
    const cookie = signIn.cookies.find((item) => item.name === 'assay_refresh');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/api/v1/auth' });

    const noCsrf = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      headers: web,
      cookies: { assay_refresh: cookie!.value },
    });
    expect(noCsrf.statusCode).toBe(403);
    expect(noCsrf.json().code).toBe('CSRF_INVALID');
    const token = await csrf(t);
    const ok = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      headers: { ...web, ...token.headers },
      cookies: { ...token.cookies, assay_refresh: cookie!.value },
    });
    expect(ok.statusCode).toBe(200);
    const next = ok.cookies.find((item) => item.name === 'assay_refresh');
    expect(next?.value).not.toBe(cookie!.value);
    const out = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: { ...web, ...token.headers },
      cookies: { ...token.cookies, assay_refresh: next!.value },
    });
    expect(out.statusCode).toBe(204);
    expect((await refresh(next!.value)).statusCode).toBe(401);
  });

  it('deletes your own account with your password; it can no longer sign in', async () => {
    const email = 'goodbye@example.com';
    const session = await signedIn(t, 'student', email);
    const wrong = await t.app.inject({
      method: 'DELETE',
      url: '/api/v1/auth/me',
      headers: bearer(session),
      payload: { password: 'nope nope nope' },
    });
    expect(wrong.statusCode).toBe(403);
    const gone = await t.app.inject({
      method: 'DELETE',
      url: '/api/v1/auth/me',
      headers: bearer(session),
      payload: { password: STRONG_PASSWORD },
    });
    expect(gone.statusCode).toBe(204);
    expect((await me(session.accessToken)).statusCode).toBe(401);
    expect((await refresh(session.refreshToken)).statusCode).toBe(401);
    const again = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email, password: STRONG_PASSWORD },
    });
    expect(again.statusCode).toBe(403);
    expect(again.json().code).toBe('ACCOUNT_DELETED');
  });

  it('refuses login of an unverified account with a clear code, and wrong passwords alike for all', async () => {
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { name: 'U', email: 'unverified@example.com', password: STRONG_PASSWORD },
    });
    await t.deps.auth.idle();
    const pending = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'unverified@example.com', password: STRONG_PASSWORD },
    });
    expect(pending.statusCode).toBe(403);
    expect(pending.json().code).toBe('ACCOUNT_NOT_VERIFIED');
    const unknown = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'ghost@example.com', password: STRONG_PASSWORD },
    });
    const wrong = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'unverified@example.com', password: 'wrong wrong wrong' },
    });
    expect(unknown.json()).toMatchObject({ status: 401, code: 'INVALID_CREDENTIALS' });
    expect(wrong.json()).toMatchObject({ status: 401, code: 'INVALID_CREDENTIALS' });
    expect(unknown.json().detail).toBe(wrong.json().detail);
  });

  it('offers the OAuth2 password flow for the docs page', async () => {
    await signedIn(t, 'student', 'oauth@example.com');
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `grant_type=password&username=oauth%40example.com&password=${encodeURIComponent(STRONG_PASSWORD)}`,
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      token_type: 'bearer',
      access_token: expect.any(String),
      accessToken: expect.any(String),
    });
  });

  it('issues single-use SSE tickets that live 60 seconds', async () => {
    const session = await signedIn(t, 'student');
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/sse-ticket',
      headers: bearer(session),
    });
    expect(response.statusCode).toBe(200);
    const { ticket } = response.json();
    expect(await t.deps.auth.redeemSseTicket(ticket)).toBe(session.user.id);
    expect(await t.deps.auth.redeemSseTicket(ticket)).toBeUndefined();
    const late = (
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/sse-ticket',
        headers: bearer(session),
      })
    ).json();
    t.clock.advance(61_000);
    expect(await t.deps.auth.redeemSseTicket(late.ticket)).toBeUndefined();
  });

  it('wrote every auth event to the audit log', async () => {
    const { items } = await t.deps.audit.list({ limit: 100 });
    const actions = new Set(items.map((entry) => entry.action));
    for (const action of [
      'auth.register',
      'auth.login',
      'auth.login_failed',
      'auth.refresh_reuse_detected',
      'auth.logout',
      'auth.password_changed',
      'auth.password_reset',
      'users.deleted',
    ]) {
      expect(actions.has(action), action).toBe(true);
    }
  });
});
