import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../platform/http/access.ts';
import { pageOf } from '../../platform/http/pagination.ts';
import { auditRequest } from '../audit/audit.request.ts';
import type { AuditService } from '../audit/audit.service.ts';
import {
  attendanceIdParams,
  attendanceQuery,
  attendanceRecord,
  createAttendanceBody,
  replaceAttendanceBody,
} from './attendance.schemas.ts';
import type { AttendanceService } from './attendance.service.ts';

const STAFF = ['admin', 'instructor'] as const;

export function attendanceRoutes(deps: {
  attendance: AttendanceService;
  audit: AuditService;
}): FastifyPluginAsyncZod {
  const tags = ['attendance'];
  return async (app) => {
    app.get(
      '/attendance',
      {
        config: { access: STAFF },
        schema: {
          tags,
          summary: 'Attendance records (instructors: of their own quizzes), newest first',
          querystring: attendanceQuery,
          response: { 200: pageOf(attendanceRecord) },
        },
      },
      async (request) => {
        const { quizId, userId, status, limit, cursor } = request.query;
        return deps.attendance.list(principalOf(request), {
          limit,
          ...(quizId ? { quizId } : {}),
          ...(userId ? { userId } : {}),
          ...(status ? { status } : {}),
          ...(cursor ? { cursor } : {}),
        });
      },
    );

    app.post(
      '/attendance',
      {
        config: { access: STAFF },
        schema: {
          tags,
          summary: 'Record attendance by hand',
          body: createAttendanceBody,
          response: { 201: attendanceRecord },
        },
      },
      async (request, reply) => {
        const record = await deps.attendance.create(principalOf(request), request.body);
        await auditRequest(deps.audit, request, {
          action: 'attendance.created',
          target: { type: 'attendance', id: record.id },
        });
        return reply.status(201).send(record);
      },
    );

    app.get(
      '/attendance/:id',
      {
        config: { access: STAFF },
        schema: {
          tags,
          summary: 'One attendance record',
          params: attendanceIdParams,
          response: { 200: attendanceRecord },
        },
      },
      async (request) => deps.attendance.get(principalOf(request), request.params.id),
    );

    app.put(
      '/attendance/:id',
      {
        config: { access: STAFF },
        schema: {
          tags,
          summary: 'Correct a record (status, time, note)',
          params: attendanceIdParams,
          body: replaceAttendanceBody,
          response: { 200: attendanceRecord },
        },
      },
      async (request) => {
        const record = await deps.attendance.replace(
          principalOf(request),
          request.params.id,
          request.body,
        );
        await auditRequest(deps.audit, request, {
          action: 'attendance.updated',
          target: { type: 'attendance', id: record.id },
        });
        return record;
      },
    );

    app.delete(
      '/attendance/:id',
      {
        config: { access: STAFF },
        schema: {
          tags,
          summary: 'Delete a record',
          params: attendanceIdParams,
          response: { 204: z.null() },
        },
      },
      async (request, reply) => {
        await deps.attendance.remove(principalOf(request), request.params.id);
        await auditRequest(deps.audit, request, {
          action: 'attendance.deleted',
          target: { type: 'attendance', id: request.params.id },
        });
        return reply.status(204).send(null);
      },
    );
  };
}
