import { z } from 'zod';
import { emailInput, nameInput, passwordInput, userSchema } from '../users/users.schemas.ts';

export const registerBody = z.strictObject({
  name: nameInput,
  email: emailInput,
  password: passwordInput,
});
export const emailBody = z.strictObject({ email: emailInput });
export const verifyOtpBody = z.strictObject({
  email: emailInput,
  otp: z.string().trim().min(1).max(20),
});
export const loginBody = z.strictObject({
  email: emailInput,
  password: z.string().min(1).max(1024),
});
export const refreshBody = z.strictObject({ refreshToken: z.string().min(1).max(200).optional() });
export const changePasswordBody = z.strictObject({
  currentPassword: z.string().min(1).max(1024),
  newPassword: passwordInput,
});
export const resetPasswordBody = z.strictObject({
  email: emailInput,
  otp: z.string().trim().min(1).max(20),
  newPassword: passwordInput,
});
export const deleteMeBody = z.strictObject({ password: z.string().min(1).max(1024) });
/** OAuth2 password flow (the docs page's Authorize button): a form, `username` is the email. */
export const tokenForm = z.object({
  grant_type: z.literal('password').optional(),
  username: emailInput,
  password: z.string().min(1).max(1024),
  scope: z.string().optional(),
  client_id: z.string().optional(),
  client_secret: z.string().optional(),
});

export const accepted = z
  .object({ message: z.string(), expiresAt: z.iso.datetime().optional() })
  .meta({ id: 'Accepted' });

export const session = z
  .object({
    user: userSchema,
    accessToken: z.string(),
    refreshToken: z
      .string()
      .optional()
      .describe('absent for web clients, which get it as the assay_refresh cookie'),
    tokenType: z.literal('bearer'),
    expiresIn: z.number().int().describe('seconds until the access token expires'),
  })
  .meta({ id: 'Session' });

export const oauthToken = z.object({
  access_token: z.string(),
  token_type: z.literal('bearer'),
  expires_in: z.number().int(),
  refresh_token: z.string(),
  accessToken: z.string(),
  refreshToken: z.string(),
  tokenType: z.literal('bearer'),
  expiresIn: z.number().int(),
  user: userSchema,
});

export const me = userSchema.extend({ credits: z.number() }).meta({ id: 'Me' });
