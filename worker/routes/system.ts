import { stateJsonSchema } from '../../src/shared/state/schema';
import type { Router } from '../app';

/** Mounts /healthz (no auth, no database), the generated OpenAPI document and the state file's JSON Schema. */
export function registerSystem(app: Router): void {
  app.get('/healthz', (c) => c.json({ ok: true }));
  // The state file's JSON Schema (the CLI's `edgeplane schema` prints the same), from the API's zod schemas.
  app.get('/schema/state.json', (c) => c.json(stateJsonSchema()));
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
