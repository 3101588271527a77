import { type SQL, sql } from 'drizzle-orm';

/** A duration as an SQL interval, to add to or take from the database's `now()`. */
export const milliseconds = (value: number): SQL =>
  sql`(${value}::double precision * interval '1 millisecond')`;
