import { defineConfig } from 'drizzle-kit';

// drizzle-kit writes the SQL migrations that tests, local dev (`npm start`) and deploy all apply.
export default defineConfig({
  dialect: 'sqlite',
  schema: './worker/db/schema.ts',
  out: './migrations',
});
