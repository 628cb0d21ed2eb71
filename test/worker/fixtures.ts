import { expect } from 'vitest';
import { api, uid } from './helpers';

export const ACCOUNT = '0123456789abcdef0123456789abcdef';

/** Creates a cluster and a tunnel in it through the API; returns their ids. */
export async function clusterWithTunnel(
  options: { nodes?: { name: string; role: string }[] } = {},
): Promise<{ cluster: string; tunnel: string }> {
  const cluster = uid('c');
  const tunnel = uid('t');
  const c = await api('POST', '/v1/clusters', { body: { id: cluster, name: cluster, nodes: options.nodes ?? [] } });
  expect(c.status).toBe(201);
  const t = await api('POST', '/v1/tunnels', { body: { id: tunnel, cluster, account: ACCOUNT } });
  expect(t.status).toBe(201);
  return { cluster, tunnel };
}

/** The service origin of the Label Studio deployment the demo uses. */
export const labelStudio = { service: { namespace: 'apps', name: 'label-studio-ls-app', port: 8085 } };
