import { z } from 'zod';
import { pageQuery } from '../../platform/http/pagination.ts';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, ROLES } from './users.models.ts';

/**
 * Emails are trimmed and lower-cased, and must be plain ASCII: look-alike Unicode addresses
 * (`аdmin@…` with a Cyrillic a) and invisible characters never become accounts.
 */
export const emailInput = z
  .string()
  .trim()
  .max(254)
  .refine((value) => /^[\x21-\x7e]+$/.test(value), {
    message: 'must be a plain ASCII email address',
  })
  .pipe(z.email('must be an email address'))
  .transform((value) => value.toLowerCase());

export const nameInput = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100)
  .refine((value) => !/[\p{Cc}\p{Cf}]/u.test(value), {
    message: 'must not contain control or invisible characters',
  });

/** Length only; the common-password check happens in the service, with the account in view. */
export const passwordInput = z
  .string()
  .min(PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`)
  .max(PASSWORD_MAX_LENGTH, `must be at most ${PASSWORD_MAX_LENGTH} characters`);

export const roleInput = z.enum(ROLES);

export const userSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    role: roleInput,
    status: z.enum(['pending', 'active', 'disabled']),
    disabled: z.boolean(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'User' });

export const userListQuery = z.strictObject({
  role: roleInput.optional(),
  q: z.string().trim().min(1).max(100).optional().describe('matches email or name'),
  ...pageQuery,
});

export const createUserBody = z.strictObject({
  name: nameInput,
  email: emailInput,
  password: passwordInput,
  role: roleInput,
});

export const patchUserBody = z
  .strictObject({
    name: nameInput.optional(),
    role: roleInput.optional(),
    disabled: z.boolean().optional(),
  })
  .refine((body) => Object.keys(body).length > 0, {
    message: 'change at least one of name, role, disabled',
  });

export const userIdParams = z.strictObject({ id: z.string().min(1).max(100) });
