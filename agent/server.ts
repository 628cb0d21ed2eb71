import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What /healthz and /metrics read. */
export interface Probe {
  health: () => { ok: boolean; body: Record<string, unknown> };
  metrics: () => string;
}

/**
 * `/healthz` and `/metrics`, without auth (they carry no secrets). The agent stays healthy while the Worker is
 * unreachable: it is doing the right thing (keeping the last applied state and retrying).
 */
export async function startServer(port: number, probe: Probe): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://agent').pathname;
    if (req.method === 'GET' && path === '/healthz') {
      const { ok, body } = probe.health();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
      return;
    }
    if (req.method === 'GET' && path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(probe.metrics());
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: `no endpoint ${req.method ?? ''} ${path}; try /healthz or /metrics` }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, resolve);
  });
  return { server, port: (server.address() as AddressInfo).port };
}
