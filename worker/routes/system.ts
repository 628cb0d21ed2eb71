import type { Router } from '../app';

/** Mounts /healthz (no auth, no database) and the generated OpenAPI document. */
export function registerSystem(app: Router): void {
  app.get('/healthz', (c) => c.json({ ok: true }));
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'an edgeplane API token',
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'edgeplane API',
      version: '1',
      description: 'Desired state of Cloudflare Tunnels, routes, WARP entries and k3s clusters.',
    },
  });
}
