import { z } from 'zod';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './users.models.ts';

export const emailSchema = z.email('must be an email address').max(254);
export const nameSchema = z.string().trim().min(1, 'must not be empty').max(100);
export const passwordSchema = z
  .string()
  .min(PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`)
  .max(PASSWORD_MAX_LENGTH, `must be at most ${PASSWORD_MAX_LENGTH} characters`);

const newAccount = z.object({ email: emailSchema, name: nameSchema, password: passwordSchema });

/** Problems with an account to be created, one line each (empty when it is fine). */
export function validateNewAccount(input: {
  email: string;
  name: string;
  password: string;
}): string[] {
  const result = newAccount.safeParse(input);
  return result.success
    ? []
    : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}
