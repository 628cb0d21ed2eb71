import { z } from 'zod';

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
  CLOUDFLARE_API_TOKEN: z.string().optional(),
  CLOUDFLARE_ACCOUNT_ID: z.string().optional(),
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
  for (const key of ['EDGEPLANE_DEV_ADMIN_TOKEN', 'EDGEPLANE_PUBLIC_URL', 'CLOUDFLARE_API_TOKEN', 'CLOUDFLARE_ACCOUNT_ID'] as const) {
    if (config[key] === '') delete config[key];
  }
  return { ...config, development: config.ENVIRONMENT === 'development' };
}
