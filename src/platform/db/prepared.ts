import { getTableColumns, type SQL, type Table } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Database } from './database.ts';

const dialect = new PgDialect();

/**
 * A hand-written statement (with `sql.placeholder`s) that Drizzle turns into text once, not on
 * every call, and that PostgreSQL parses and plans once per pooled connection (a named
 * statement; PGlite ignores the name). Like every prepared query it belongs to `db`: never run
 * it inside `db.transaction`, whose work must go through the transaction's own connection
 * (PGlite has only one, so the outer `db` would wait for the transaction forever).
 */
export function prepareRows<Row>(db: Database, name: string, query: SQL) {
  const prepared = db._.session.prepareQuery(dialect.sqlToQuery(query), undefined, name, false);
  return async (values: Record<string, unknown>): Promise<Row[]> =>
    ((await prepared.execute(values)) as { rows: Row[] }).rows;
}

/**
 * Maps a raw row (column names, driver values) of `table` to what Drizzle's own queries return,
 * for statements Drizzle cannot build (several writes in one statement).
 */
export function rowMapper<T extends Table>(table: T) {
  const columns = Object.entries(getTableColumns(table));
  return (raw: Record<string, unknown>): T['$inferSelect'] => {
    const row: Record<string, unknown> = {};
    for (const [key, column] of columns) {
      const value = raw[column.name];
      row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
    }
    return row as T['$inferSelect'];
  };
}
