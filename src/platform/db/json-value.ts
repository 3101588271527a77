import { customType } from 'drizzle-orm/pg-core';

/**
 * A `jsonb` column whose values come back exactly as stored. Both drivers (pg and PGlite)
 * already parse jsonb; Drizzle's own `jsonb` then parses any string value a second time, so
 * the stored answer "42" came back as the number 42 and an option id "86302976" stopped
 * matching its option. Use this for columns that may hold a bare JSON string.
 */
export const jsonValue = customType<{ data: unknown; driverData: unknown }>({
  dataType: () => 'jsonb',
  toDriver: (value) => JSON.stringify(value),
  fromDriver: (value) => value,
});
