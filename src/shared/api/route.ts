import { z } from 'zod';
import { originRequestSchema } from '../compiler/origin-request';
import { resourceMeta } from './common';
import { hostname, originService, pathPrefix, resourceId } from './fields';
import { serviceRef } from './tunnel';

/** Where a route sends traffic: a Service in the tunnel's cluster, or a URL / http_status as cloudflared takes it. */
export const origin = z.union([z.strictObject({ service: serviceRef }), z.strictObject({ url: originService })]);
export type Origin = z.infer<typeof origin>;

/** The kinds of origin cloudflared runs (src/shared/cloudflared/origin-service.ts); a Service origin is `http`. */
export const originKind = z.enum(['http', 'tcp', 'unix', 'http_status', 'hello_world', 'socks_proxy', 'bastion']);
export type OriginKindName = z.infer<typeof originKind>;

/** Cloudflare Access protection checked by cloudflared at the origin. */
export const access = z.strictObject({
  required: z.boolean().default(true),
  teamName: z.string().min(1).max(63).describe('the Zero Trust team name, the "<team>" of <team>.cloudflareaccess.com'),
  audTag: z
    .array(z.string().min(1).max(64))
    .min(1)
    .max(32, 'at most 32 audience tags')
    .describe('Access application audience tags (64 hex characters each)'),
});

/** Body of POST /v1/routes. */
export const routeCreate = z.strictObject({
  tunnel: resourceId('tunnel id'),
  hostname,
  path: pathPrefix.optional().describe('path prefix; "/api" matches /api and /api/x but not /apix'),
  pathRegex: z
    .string()
    .optional()
    .describe('cloudflared path regex (Go RE2, unanchored, tested against the decoded URL path), kept byte for byte; exclusive with path'),
  origin,
  originRequest: originRequestSchema.default({}).describe('cloudflared originRequest overrides for this rule'),
  dns: z.boolean().default(true).describe('manage a proxied CNAME for the hostname'),
  access: access.optional(),
});
export type RouteCreate = z.infer<typeof routeCreate>;

/**
 * Body of PATCH /v1/routes/:id: only the fields sent change. Written out without defaults on purpose — zod keeps a
 * field's `.default()` under `.partial()`, which would silently reset every field the client did not send.
 */
export const routeUpdate = z.strictObject({
  hostname: hostname.optional(),
  path: pathPrefix.nullable().optional().describe('null removes the path prefix; a prefix replaces a pathRegex'),
  pathRegex: z.string().nullable().optional().describe('null removes the path regex; a regex replaces a path prefix'),
  origin: origin.optional(),
  originRequest: originRequestSchema.optional(),
  dns: z.boolean().optional(),
  access: access.nullable().optional().describe('null removes Access protection'),
});
export type RouteUpdate = z.infer<typeof routeUpdate>;

/** Where the route's DNS record stands in Cloudflare, from the sync's last work on its hostname. */
export const dnsStatus = z.object({
  state: z.enum(['off', 'pending', 'synced', 'conflict', 'failing']),
  detail: z.string().nullable().describe('the foreign record in the way, or the last error'),
});
export type DnsStatus = z.infer<typeof dnsStatus>;

/** A route as the API returns it. */
export const route = z.object({
  id: z.string(),
  tunnel: z.string(),
  hostname: z.string(),
  path: z.string().nullable(),
  pathRegex: z.string().nullable().describe('the cloudflared path regex, when the route has one instead of a prefix'),
  origin,
  originKind: originKind.describe('how cloudflared runs the origin, read from the compiled service'),
  originRequest: z.record(z.string(), z.unknown()),
  dns: z.boolean(),
  access: access.nullable(),
  dnsStatus: dnsStatus.optional().describe('present on GET and list responses'),
  ...resourceMeta,
});
export type Route = z.infer<typeof route>;
