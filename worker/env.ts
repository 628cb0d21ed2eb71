import { z } from 'zod';

/** ACCESS_ROLES: role → emails, `*@domain` patterns or Access group names. */
const accessRoles = z.partialRecord(z.enum(['admin', 'editor', 'viewer']), z.array(z.string().min(1)));
export type AccessRoles = z.infer<typeof accessRoles>;

const schema = z.object({
  ENVIRONMENT: z.string().default('production'),
  EDGEPLANE_DEV_ADMIN_TOKEN: z.string().min(8).optional(),
  EDGEPLANE_BOOTSTRAP_TOKEN: z.string().min(32, 'EDGEPLANE_BOOTSTRAP_TOKEN must be at least 32 characters').optional(),
  EDGEPLANE_ENCRYPTION_KEY: z.string().optional(),
  // The Worker's public URL as agents reach it (install.yaml writes it into the agent's Deployment); never the Host header.
  EDGEPLANE_PUBLIC_URL: z
    .union([
      z.literal(''),
      z.url({ protocol: /^https?$/, error: 'EDGEPLANE_PUBLIC_URL must be an http(s) URL such as https://edgeplane.example.com' }),
    ])
    .optional(),
  CLOUDFLARE_API_BASE_URL: z.url().default('https://api.cloudflare.com/client/v4'),
  // Calls a minute each token may make through the inference proxy and the Label Studio adapter (docs/inference.md).
  EDGEPLANE_INFERENCE_RATE_PER_MINUTE: z.coerce
    .number({ error: 'EDGEPLANE_INFERENCE_RATE_PER_MINUTE must be a whole number of calls a minute, e.g. 600' })
    .int('EDGEPLANE_INFERENCE_RATE_PER_MINUTE must be a whole number of calls a minute, e.g. 600')
    .positive('EDGEPLANE_INFERENCE_RATE_PER_MINUTE must be at least 1')
    .default(600),
  CLOUDFLARE_API_TOKEN: z.string().optional(),
  CLOUDFLARE_ACCOUNT_ID: z.string().optional(),
  // Cloudflare Access in front of /admin and the API calls the console makes (docs/admin.md → Login).
  ACCESS_TEAM_DOMAIN: z
    .url('ACCESS_TEAM_DOMAIN must be the team URL, e.g. https://myteam.cloudflareaccess.com')
    .transform((u) => u.replace(/\/+$/, ''))
    .optional()
    .or(z.literal('').transform(() => undefined)),
  ACCESS_AUD: z.string().optional(),
  ACCESS_ROLES: z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (!text) return undefined;
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        ctx.addIssue({
          code: 'custom',
          message: 'ACCESS_ROLES must be JSON, e.g. {"admin": ["ops@example.com"], "viewer": ["*@example.com"]}',
        });
        return z.NEVER;
      }
      const result = accessRoles.safeParse(parsed);
      if (!result.success) {
        ctx.addIssue({
          code: 'custom',
          message: `ACCESS_ROLES: ${result.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}`,
        });
        return z.NEVER;
      }
      return result.data;
    }),
});

/** The Worker's configuration, parsed once at the boundary so a bad value is a named error, not a later `undefined`. */
export type Config = z.infer<typeof schema> & { development: boolean };

const parsed = new WeakMap<object, Config>();

/** The parsed config of an env object, parsed once per isolate rather than on every request. */
export function configOf(env: object): Config {
  let config = parsed.get(env);
  if (!config) {
    config = parseConfig(env as Record<string, unknown>);
    parsed.set(env, config);
  }
  return config;
}

/** Parses the Worker's vars and secrets; throws a message naming every bad variable. */
export function parseConfig(env: Record<string, unknown>): Config {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`edgeplane configuration is invalid: ${problems}`);
  }
  const config = result.data;
  // Empty strings from `--var NAME:` or an unset shell variable mean "not set".
  for (const key of [
    'EDGEPLANE_DEV_ADMIN_TOKEN',
    'EDGEPLANE_PUBLIC_URL',
    'CLOUDFLARE_API_TOKEN',
    'CLOUDFLARE_ACCOUNT_ID',
    'ACCESS_AUD',
  ] as const) {
    if (config[key] === '') delete config[key];
  }
  if (Boolean(config.ACCESS_TEAM_DOMAIN) !== Boolean(config.ACCESS_AUD)) {
    throw new Error(
      'edgeplane configuration is invalid: ACCESS_TEAM_DOMAIN and ACCESS_AUD are set together (Cloudflare Access needs both)',
    );
  }
  return { ...config, development: config.ENVIRONMENT === 'development' };
}
