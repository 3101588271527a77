import { randomBytes } from 'node:crypto';
import type { Deps } from './deps.ts';
import type { Role } from './modules/users/users.models.ts';

/**
 * Demo accounts for trying Assay locally. No password is written down anywhere: each account
 * created gets a fresh random one, printed once by `assay seed`.
 */
const DEMO_ACCOUNTS: ReadonlyArray<{ email: string; name: string; role: Role }> = [
  { email: 'admin@assay.local', name: 'Ada Admin', role: 'admin' },
  { email: 'instructor@assay.local', name: 'Ian Instructor', role: 'instructor' },
  { email: 'student1@assay.local', name: 'Sam Student', role: 'student' },
  { email: 'student2@assay.local', name: 'Sasha Student', role: 'student' },
  { email: 'student3@assay.local', name: 'Sol Student', role: 'student' },
];

const demoPassword = () => `demo-${randomBytes(9).toString('base64url')}`;

/** Creates the missing demo accounts; existing ones keep their password (`password` is then null). */
export async function seedDemoData(deps: Deps) {
  const results: Array<{ email: string; role: Role; password: string | null; created: boolean }> =
    [];
  for (const account of DEMO_ACCOUNTS) {
    const existing = await deps.users.findByEmail(account.email);
    const password = existing ? null : demoPassword();
    if (password) await deps.users.createActive({ ...account, password });
    results.push({ email: account.email, role: account.role, password, created: !existing });
  }
  return results;
}
