import { defineConfig } from 'drizzle-kit';

// Each feature owns its tables in `<feature>.tables.ts`; drizzle-kit collects them all.
export default defineConfig({
  dialect: 'postgresql',
  schema: ['./src/platform/**/*.tables.ts', './src/modules/**/*.tables.ts'],
  out: './drizzle',
});
