import { z } from '@hono/zod-openapi';
import { role } from './token';

/** Who the presented credential (API token, Access identity or the dev login) acts as, for the console and the CLI. */
export const me = z
  .object({
    id: z.string().describe('`token:<id>`, the Access email, or `dev-admin`'),
    role: role.describe('what it may do: viewer reads, editor changes, admin also manages tokens and agents'),
  })
  .openapi('Me');
export type Me = z.infer<typeof me>;
