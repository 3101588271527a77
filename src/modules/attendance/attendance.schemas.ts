import { z } from 'zod';
import { pageQuery } from '../../platform/http/pagination.ts';
import { ATTENDANCE_SOURCES, ATTENDANCE_STATUSES } from './attendance.tables.ts';

export const attendanceRecord = z
  .object({
    id: z.string(),
    quizId: z.string(),
    userId: z.string(),
    status: z.enum(ATTENDANCE_STATUSES),
    timestamp: z.iso.datetime(),
    source: z.enum(ATTENDANCE_SOURCES),
    note: z.string().nullable(),
    recordedBy: z.string().nullable().describe('who recorded it by hand; null when automatic'),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'AttendanceRecord' });

export const createAttendanceBody = z.strictObject({
  quizId: z.string().min(1).max(100),
  userId: z.string().min(1).max(100),
  status: z.enum(ATTENDANCE_STATUSES),
  timestamp: z.iso.datetime({ offset: true }).optional().describe('defaults to now'),
  note: z.string().trim().max(2_000).optional(),
});

export const replaceAttendanceBody = z.strictObject({
  status: z.enum(ATTENDANCE_STATUSES),
  timestamp: z.iso.datetime({ offset: true }),
  note: z.string().trim().max(2_000).nullable().optional(),
});

export const attendanceQuery = z.strictObject({
  quizId: z.string().max(100).optional(),
  userId: z.string().max(100).optional(),
  status: z.enum(ATTENDANCE_STATUSES).optional(),
  ...pageQuery,
});

export const attendanceIdParams = z.strictObject({ id: z.string().min(1).max(100) });

export type CreateAttendanceBody = z.infer<typeof createAttendanceBody>;
export type ReplaceAttendanceBody = z.infer<typeof replaceAttendanceBody>;
