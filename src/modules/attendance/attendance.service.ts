import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../../platform/clock/clock.ts';
import type { Executor } from '../../platform/db/database.ts';
import { createErrorFactory, validationFailed } from '../../platform/errors/errors.ts';
import type { Principal } from '../../platform/http/access.ts';
import { decodeCursor, toPage } from '../../platform/http/pagination.ts';
import type { QuizzesService } from '../quizzes/quizzes.service.ts';
import type { UsersService } from '../users/users.service.ts';
import type { AttendanceFilter, AttendanceRepository } from './attendance.repository.ts';
import type { CreateAttendanceBody, ReplaceAttendanceBody } from './attendance.schemas.ts';
import type { AttendanceRow } from './attendance.tables.ts';

export const attendanceNotFound = createErrorFactory({
  code: 'ATTENDANCE_NOT_FOUND',
  status: 404,
  title: 'Attendance record not found',
});

const cursorSchema = z.object({ timestamp: z.iso.datetime(), id: z.string() });

function present(row: AttendanceRow) {
  return {
    id: row.id,
    quizId: row.quizId,
    userId: row.userId,
    status: row.status,
    timestamp: row.timestamp.toISOString(),
    source: row.source,
    note: row.note,
    recordedBy: row.recordedBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function createAttendanceService(deps: {
  repository: AttendanceRepository;
  quizzes: QuizzesService;
  users: UsersService;
  clock: Clock;
}) {
  const { repository } = deps;

  /** Instructors keep the attendance of their own quizzes; to them, other records do not exist. */
  const loadManaged = async (principal: Principal, id: string) => {
    const row = await repository.find(id);
    if (!row || !(await deps.quizzes.manages(principal, row.quizId))) throw attendanceNotFound();
    return row;
  };

  return {
    /** Called when an attempt starts, in its transaction; once per user and quiz. */
    async recordPresent(executor: Executor, input: { quizId: string; userId: string; at: Date }) {
      await repository.insert(executor, {
        id: randomUUID(),
        quizId: input.quizId,
        userId: input.userId,
        status: 'present',
        timestamp: input.at,
        source: 'attempt',
        createdAt: input.at,
        updatedAt: input.at,
      });
    },

    async create(principal: Principal, input: CreateAttendanceBody) {
      const problems: Array<{ path: string; message: string }> = [];
      if (!(await deps.quizzes.manages(principal, input.quizId)))
        problems.push({ path: 'body.quizId', message: 'no such quiz of yours' });
      const user = await deps.users.get(input.userId).catch(() => undefined);
      if (!user) problems.push({ path: 'body.userId', message: 'no such user' });
      if (problems.length > 0) throw validationFailed(problems);
      const at = deps.clock.now();
      const row = await repository.insert(repository.executor, {
        id: randomUUID(),
        quizId: input.quizId,
        userId: input.userId,
        status: input.status,
        timestamp: input.timestamp ? new Date(input.timestamp) : at,
        source: 'manual',
        note: input.note ?? null,
        recordedBy: principal.userId,
        createdAt: at,
        updatedAt: at,
      });
      return present(row!);
    },

    async get(principal: Principal, id: string) {
      return present(await loadManaged(principal, id));
    },

    async replace(principal: Principal, id: string, input: ReplaceAttendanceBody) {
      await loadManaged(principal, id);
      const row = await repository.update(id, {
        status: input.status,
        timestamp: new Date(input.timestamp),
        note: input.note ?? null,
        recordedBy: principal.userId,
        updatedAt: deps.clock.now(),
      });
      if (!row) throw attendanceNotFound();
      return present(row);
    },

    async remove(principal: Principal, id: string) {
      await loadManaged(principal, id);
      if (!(await repository.remove(id))) throw attendanceNotFound();
    },

    async list(
      principal: Principal,
      input: {
        quizId?: string;
        userId?: string;
        status?: AttendanceRow['status'];
        limit: number;
        cursor?: string;
      },
    ) {
      const after = decodeCursor(input.cursor, cursorSchema);
      const filter: AttendanceFilter = {};
      if (input.quizId) filter.quizId = input.quizId;
      if (input.userId) filter.userId = input.userId;
      if (input.status) filter.status = input.status;
      if (principal.role !== 'admin')
        filter.quizIds = await deps.quizzes.idsAuthoredBy(principal.userId);
      const rows = await repository.list(filter, {
        limit: input.limit + 1,
        ...(after ? { after: { timestamp: new Date(after.timestamp), id: after.id } } : {}),
      });
      return toPage(rows, input.limit, present, (row) => ({
        timestamp: row.timestamp.toISOString(),
        id: row.id,
      }));
    },
  };
}

export type AttendanceService = ReturnType<typeof createAttendanceService>;
