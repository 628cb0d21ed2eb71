import { z } from 'zod';
import { resourceMeta } from './common';
import { accountId, cidr, hostname, uuid } from './fields';

/** Device profile: the account's default profile or a custom device settings policy by id. */
export const profile = z.union([z.literal('default'), uuid]);

const description = z.string().max(100, 'Cloudflare limits a split-tunnel description to 100 characters').default('');

/** Body of POST /v1/split-tunnel: exactly one of address (CIDR) or host. */
export const splitTunnelCreate = z
  .strictObject({
    account: accountId.optional().describe('defaults to CLOUDFLARE_ACCOUNT_ID, or the one account all tunnels use'),
    profile: profile.default('default'),
    mode: z.enum(['include', 'exclude']),
    address: cidr.optional(),
    host: hostname.optional(),
    description,
  })
  .superRefine((v, ctx) => {
    if ((v.address === undefined) === (v.host === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['address'], message: 'give exactly one of "address" (a CIDR) or "host" (a hostname)' });
    }
  });
export type SplitTunnelCreate = z.infer<typeof splitTunnelCreate>;

/** Body of PATCH /v1/split-tunnel/:id. */
export const splitTunnelUpdate = z.strictObject({ description: description.unwrap() });
export type SplitTunnelUpdate = z.infer<typeof splitTunnelUpdate>;

/** A split-tunnel entry; `owner: "foreign"` entries were made elsewhere and are read-only. */
export const splitTunnelEntry = z.object({
  id: z.string(),
  profile: z.string(),
  mode: z.enum(['include', 'exclude']),
  address: z.string().nullable(),
  host: z.string().nullable(),
  description: z.string(),
  owner: z.enum(['edgeplane', 'foreign']),
  ...resourceMeta,
});
export type SplitTunnelEntry = z.infer<typeof splitTunnelEntry>;

/** What the drift check does when edgeplane's entries of a profile's lists were changed outside edgeplane. */
export const splitTunnelDriftPolicy = z
  .enum(['alert', 'revert'])
  .describe('"alert" (default): report the change; "revert": put edgeplane\'s entries back. Foreign entries are never touched');

/** Split-tunnel settings of one device profile (absent profiles have the defaults). */
export const splitTunnelProfile = z.object({
  account: z.string(),
  profile: z.string(),
  driftPolicy: splitTunnelDriftPolicy,
  ...resourceMeta,
});
export type SplitTunnelProfile = z.infer<typeof splitTunnelProfile>;

/** Body of PUT /v1/split-tunnel-profiles/:profile. */
export const splitTunnelProfilePut = z.strictObject({
  account: accountId.optional().describe('defaults to CLOUDFLARE_ACCOUNT_ID, or the one account all tunnels use'),
  driftPolicy: splitTunnelDriftPolicy,
});
export type SplitTunnelProfilePut = z.infer<typeof splitTunnelProfilePut>;
