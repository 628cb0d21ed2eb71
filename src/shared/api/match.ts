import { z } from 'zod';

/** One URL's answer from the route tester: the rule cloudflared would choose and, for the catch-all, the nearest miss. */
export const urlMatch = z.object({
  url: z.string(),
  host: z.string().describe('the Host cloudflared compares, port dropped'),
  path: z.string().describe('the decoded URL path the rule regexes are tested against'),
  index: z.number().int().describe('0-based index of the rule in the config'),
  catchAll: z.boolean(),
  hostname: z.string().nullable(),
  pathRegex: z.string().nullable(),
  service: z.string(),
  originKind: z.string().describe('http | tcp | unix | http_status | hello_world | socks_proxy | bastion'),
  routeId: z.string().nullable().describe('the route that produced the rule (null for the catch-all or a pasted config)'),
  nearestMiss: z.object({ index: z.number().int(), hostname: z.string().nullable(), reason: z.string() }).optional(),
});
export type UrlMatch = z.infer<typeof urlMatch>;

const url = z.string().min(1).max(4096);

/** Query of GET /v1/tunnels/:id/match. */
export const matchQuery = z.object({ url });

/** Body of POST /v1/tunnels/:id/match. */
export const matchUrls = z.strictObject({ urls: z.array(url).min(1).max(1000) });

/** Body of POST /v1/match: a config.yml text or a remote config object, and the URLs to test against it. */
export const matchConfig = z.strictObject({
  config: z.union([z.string().max(1_000_000), z.record(z.string(), z.unknown())]),
  urls: z.array(url).min(1).max(1000),
});

/** Response of the route tester. */
export const matchResponse = z.object({ matches: z.array(urlMatch), warnings: z.array(z.string()) });
