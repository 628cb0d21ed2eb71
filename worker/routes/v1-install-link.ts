import { createRoute, z } from '@hono/zod-openapi';
import { installLink, installLinkCreate } from '../../src/shared/api';
import type { Router } from '../app';
import { requireAdmin } from '../middleware/auth';
import { buildDeps } from '../middleware/deps';
import { purgeExpiredBootstrapTokens } from '../services/bootstrap-tokens';
import { mintInstallLink, openInstallLink } from '../services/install-links';
import { errors, idParam, json, security } from './contract';
import { installManifest, publicUrl } from './v1-install';

/**
 * Mounts the install link: POST /v1/clusters/{id}/install-link (admin, like install.yaml: the link is worth a bootstrap
 * token) mints it; GET /install/{id}.yaml serves the manifest to whoever holds a valid link, with no API token, so
 * `kubectl apply -f '<link>'` needs none and the shell history keeps only a link that dies at its expiry.
 */
export function registerInstallLink(app: Router): void {
  app.use('/v1/clusters/:id/install-link', requireAdmin);
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/clusters/{id}/install-link',
      tags: ['clusters'],
      security,
      summary: "A short-lived signed link to the cluster's install manifest, and the kubectl line that applies it",
      request: { params: idParam, body: { content: { 'application/json': { schema: installLinkCreate } }, required: false } },
      responses: { 201: json(installLink, 'the link, its expiry and the bootstrap token it carries (by fingerprint)'), ...errors },
    }),
    async (c) => {
      const deps = c.get('deps');
      // Before a token is issued: a Worker that cannot say where agents reach it mints nothing.
      const base = publicUrl(c.get('config'), c.req.url);
      // The body is optional: without one (no JSON content type) the validator passes nothing and the defaults apply.
      const body = installLinkCreate.parse(c.req.valid('json') ?? {});
      const link = await mintInstallLink(deps, c.req.valid('param').id, base, body.expiresInSeconds);
      deps.defer(purgeExpiredBootstrapTokens(deps));
      return c.json(link, 201);
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/install/{file}',
      tags: ['clusters'],
      summary: 'The install manifest behind a signed link (no API token: the signature is the authorization)',
      request: {
        params: z.object({ file: z.string().regex(/^[a-z0-9-]{1,63}\.yaml$/, 'a cluster id followed by .yaml') }),
        query: z.object({ e: z.string().max(20).optional(), n: z.string().max(64).optional(), s: z.string().max(128).optional() }),
      },
      responses: {
        200: { description: 'multi-document YAML for `kubectl apply -f`', content: { 'application/yaml': { schema: z.string() } } },
        ...errors,
      },
    }),
    async (c) => {
      const deps = buildDeps(c, { id: 'install-link', role: 'viewer' });
      const clusterId = c.req.valid('param').file.replace(/\.yaml$/, '');
      const url = publicUrl(c.get('config'), c.req.url);
      const opened = await openInstallLink(deps, clusterId, c.req.valid('query'));
      const text = installManifest({ clusterId, url, token: opened.token, expiresAt: opened.tokenExpiresAt });
      return c.body(text, 200, { 'content-type': 'application/yaml; charset=utf-8', 'cache-control': 'no-store' });
    },
  );
}
