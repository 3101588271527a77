export const ROLES = ['admin', 'instructor', 'student'] as const;
export type Role = (typeof ROLES)[number];

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

export const normalizeEmail = (email: string) => email.trim().toLowerCase();
