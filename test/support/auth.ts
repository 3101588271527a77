import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import type { Role } from '../../src/modules/users/users.models.ts';
import type { TestApp } from './app.ts';

export const STRONG_PASSWORD = 'violet-harbour-7-lanterns';

/** Every mail the files transport wrote, parsed, oldest first. */
export async function mailbox(t: TestApp) {
  // Codes and notices are mailed after the response; wait for that work to finish.
  await t.deps.auth.idle();
  const dir = join(t.dataDir, 'mail');
  const names = (await readdir(dir).catch(() => [] as string[]))
    .filter((name) => name.endsWith('.eml'))
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const parsed = await simpleParser(await readFile(join(dir, name)));
      const to = Array.isArray(parsed.to) ? parsed.to[0]?.text : parsed.to?.text;
      return {
        file: name,
        to: to ?? '',
        subject: parsed.subject ?? '',
        text: parsed.text ?? '',
        html: parsed.html || '',
      };
    }),
  );
}

/** The code in the newest mail to `email`. */
export async function latestCode(t: TestApp, email: string): Promise<string> {
  const mails = (await mailbox(t)).filter((mail) => mail.to.includes(email));
  const code = mails.at(-1)?.text.match(/\b[A-Z0-9]{6}\b/)?.[0];
  if (!code) throw new Error(`no code was mailed to ${email}`);
  return code;
}

/** A CSRF token and the cookie it belongs to, as a browser would hold them. */
export async function csrf(t: TestApp) {
  const response = await t.app.inject({ method: 'GET', url: '/api/v1/auth/csrf' });
  const cookie = response.cookies.find((item) => item.name === 'assay_csrf');
  if (!cookie) throw new Error('no csrf cookie');
  return {
    headers: { 'x-csrf-token': response.json().csrfToken as string },
    cookies: { assay_csrf: cookie.value },
  };
}

export type Tokens = {
  accessToken: string;
  refreshToken: string;
  user: { id: string; role: Role; email: string };
};

/** Register, read the code from the mailbox, verify: a brand-new signed-in student. */
export async function signUp(t: TestApp, email: string, name = 'New Student'): Promise<Tokens> {
  const registered = await t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/register',
    payload: { name, email, password: STRONG_PASSWORD },
  });
  if (registered.statusCode !== 202)
    throw new Error(`register: ${registered.statusCode} ${registered.body}`);
  const token = await csrf(t);
  const verified = await t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/verify-otp',
    ...token,
    payload: { email, otp: await latestCode(t, email) },
  });
  if (verified.statusCode !== 201)
    throw new Error(`verify: ${verified.statusCode} ${verified.body}`);
  return verified.json() as Tokens;
}

/** An active account of any role, created the way an admin would, then signed in. */
export async function signedIn(
  t: TestApp,
  role: Role,
  email = `${role}-${Math.random().toString(36).slice(2, 8)}@example.com`,
) {
  await t.deps.users.createActive({ email, name: `${role} user`, role, password: STRONG_PASSWORD });
  return login(t, email);
}

export async function login(
  t: TestApp,
  email: string,
  password = STRONG_PASSWORD,
): Promise<Tokens> {
  const response = await t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email, password },
  });
  if (response.statusCode !== 200)
    throw new Error(`login: ${response.statusCode} ${response.body}`);
  return response.json() as Tokens;
}

export const bearer = (tokens: { accessToken: string }) => ({
  authorization: `Bearer ${tokens.accessToken}`,
});
