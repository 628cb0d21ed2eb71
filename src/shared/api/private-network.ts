import { z } from 'zod';
import { resourceMeta } from './common';
import { cidr, resourceId, uuid } from './fields';

/** Body of POST /v1/private-networks. */
export const privateNetworkCreate = z.strictObject({
  tunnel: resourceId('tunnel id'),
  cidr,
  virtualNetworkId: uuid.optional(),
  comment: z.string().max(100, 'comment is limited to 100 characters').default(''),
});
export type PrivateNetworkCreate = z.infer<typeof privateNetworkCreate>;

/** Body of PATCH /v1/private-networks/:id (the CIDR and tunnel define the route; change them by re-creating). */
export const privateNetworkUpdate = z.strictObject({ comment: z.string().max(100, 'comment is limited to 100 characters') });
export type PrivateNetworkUpdate = z.infer<typeof privateNetworkUpdate>;

/** A private-network route as the API returns it. */
export const privateNetwork = z.object({
  id: z.string(),
  tunnel: z.string(),
  cidr: z.string(),
  virtualNetworkId: z.string().nullable(),
  comment: z.string(),
  ...resourceMeta,
});
export type PrivateNetwork = z.infer<typeof privateNetwork>;
