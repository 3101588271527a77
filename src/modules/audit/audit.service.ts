import { randomUUID } from 'node:crypto';
import { and, desc, eq, gte, lt, lte, or, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Clock } from '../../platform/clock/clock.ts';
import type { Database, Executor } from '../../platform/db/database.ts';
import { decodeCursor, toPage } from '../../platform/http/pagination.ts';
import type { Logger } from '../../platform/logger/logger.ts';
import { type AuditRow, auditLog } from './audit.tables.ts';

/** Where a change came from: filled in by the route, carried through services. */
export type RequestContext = {
  ip: string | null;
  requestId: string | null;
  userAgent?: string | null;
};

export type AuditEntry = {
  action: string;
  actor?: { id: string; email?: string } | null;
  target?: { type: string; id: string } | null;
  context?: RequestContext;
  details?: Record<string, unknown>;
};

const cursorSchema = z.object({ at: z.iso.datetime(), id: z.string() });

export const presentAuditRow = (row: AuditRow) => ({
  id: row.id,
  at: row.at.toISOString(),
  action: row.action,
  actorId: row.actorId,
  actorEmail: row.actorEmail,
  targetType: row.targetType,
  targetId: row.targetId,
  ip: row.ip,
  requestId: row.requestId,
  details: row.details,
});

export function createAuditService(deps: { db: Database; clock: Clock; logger: Logger }) {
  return {
    /** Appends an entry; pass `executor` to write it in the same transaction as the change. */
    async record(entry: AuditEntry, executor: Executor = deps.db): Promise<void> {
      await executor.insert(auditLog).values({
        id: randomUUID(),
        at: deps.clock.now(),
        action: entry.action,
        actorId: entry.actor?.id ?? null,
        actorEmail: entry.actor?.email ?? null,
        targetType: entry.target?.type ?? null,
        targetId: entry.target?.id ?? null,
        ip: entry.context?.ip ?? null,
        requestId: entry.context?.requestId ?? null,
        details: entry.details ?? {},
      });
    },

    async list(filter: {
      actorId?: string;
      action?: string;
      from?: Date;
      to?: Date;
      limit: number;
      cursor?: string;
    }) {
      const after = decodeCursor(filter.cursor, cursorSchema);
      const conditions: SQL[] = [];
      if (filter.actorId) conditions.push(eq(auditLog.actorId, filter.actorId));
      if (filter.action) conditions.push(eq(auditLog.action, filter.action));
      if (filter.from) conditions.push(gte(auditLog.at, filter.from));
      if (filter.to) conditions.push(lte(auditLog.at, filter.to));
      if (after) {
        const at = new Date(after.at);
        conditions.push(
          or(lt(auditLog.at, at), and(eq(auditLog.at, at), lt(auditLog.id, after.id)))!,
        );
      }
      const rows = await deps.db
        .select()
        .from(auditLog)
        .where(conditions.length > 0 ? and(...conditions) : undefined)
        .orderBy(desc(auditLog.at), desc(auditLog.id))
        .limit(filter.limit + 1);
      return toPage(rows, filter.limit, presentAuditRow, (row) => ({
        at: row.at.toISOString(),
        id: row.id,
      }));
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
