import { z } from 'zod';

/** Default lifetime of an install link: long enough to paste it into a terminal, short enough to be worthless later. */
export const INSTALL_LINK_TTL_SECONDS = 900;

/** Body of POST /v1/clusters/:id/install-link. */
export const installLinkCreate = z.strictObject({
  expiresInSeconds: z
    .number()
    .int()
    .min(5, 'an install link lives at least 5 seconds')
    .max(86_400, 'an install link lives at most a day (86400 seconds)')
    .default(INSTALL_LINK_TTL_SECONDS)
    .describe('how long the link can be fetched; the bootstrap token inside lives a day longer, for the agent to register'),
});
export type InstallLinkCreate = z.infer<typeof installLinkCreate>;

/** A signed, short-lived link to a cluster's install manifest, and the one line that applies it. */
export const installLink = z.object({
  cluster: z.string(),
  url: z.string().describe('HMAC-signed, scoped to the cluster, refused after expiresAt or once its token registered an agent'),
  command: z.string().describe("kubectl apply -f '<url>'"),
  expiresAt: z.string().describe('the link is refused from then on'),
  tokenId: z.string().describe('the fingerprint of the bootstrap token the manifest carries (revocable in /bootstrap-tokens)'),
  tokenExpiresAt: z.string(),
});
export type InstallLink = z.infer<typeof installLink>;
