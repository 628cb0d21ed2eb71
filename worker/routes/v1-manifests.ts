import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { compileClusterBundle, redactSecrets } from '../../src/shared/compiler';
import type { Router } from '../app';
import { loadDesiredCluster } from '../db/desired-state';
import { errors, idParam, json, security } from './contract';

const kubeObject = z
  .object({
    apiVersion: z.string(),
    kind: z.string(),
    metadata: z.object({
      name: z.string(),
      namespace: z.string().optional(),
      labels: z.record(z.string(), z.string()).optional(),
      annotations: z.record(z.string(), z.string()).optional(),
    }),
  })
  .catchall(z.unknown());

/** Response of GET /v1/clusters/:id/manifests. */
export const manifestsResponse = z.object({
  revision: z.number().int().describe("the cluster's desired revision"),
  hash: z.string().describe('SHA-256 of the canonical JSON of the bundle the agent receives (the same value as its ETag source)'),
  objects: z.array(kubeObject).describe("Secret data is redacted here: connector tokens only reach the cluster's agent"),
});

/** Mounts GET /v1/clusters/{id}/manifests. */
export function registerManifests(app: Router): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/clusters/{id}/manifests',
      tags: ['clusters'],
      security,
      summary: 'The Kubernetes objects edgeplane applies in a cluster (secrets redacted)',
      request: { params: idParam },
      responses: { 200: json(manifestsResponse, "the cluster's compiled bundle"), ...errors },
    }),
    async (c) => {
      // Tokens are decrypted so `hash` is the hash of the bundle the agent really gets; they are removed before responding.
      const desired = await loadDesiredCluster(c.get('deps'), c.req.valid('param').id);
      const bundle = compileClusterBundle(desired);
      return c.json({ revision: desired.revision, hash: bundle.hash, objects: redactSecrets(bundle.objects) }, 200, {
        'cache-control': 'no-store',
      });
    },
  );
}
