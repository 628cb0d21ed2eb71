// Demo desired state shaped like a real home setup: a 4-node k3s cluster "oceanid" (control plane, two workers,
// a GPU box) behind one tunnel, a GPU tunnel pinned to the GPU node, the k3s pod/service CIDRs in WARP, and a
// "trinity" cluster whose one hostname routes four path prefixes to four Services. Everything goes through the
// public API, so the seed is validated, audited and queued for sync like any other change.

export const DEMO_ACCOUNT = '0123456789abcdef0123456789abcdef';

/** Creates the demo unless cluster "oceanid" already exists; returns whether it wrote anything. */
export async function seedDemo(baseUrl, token, account = DEMO_ACCOUNT) {
  const call = async (method, path, body) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok && !(method === 'GET' && response.status === 404)) {
      throw new Error(`seed: ${method} ${path} answered ${response.status}: ${await response.text()}`);
    }
    return response;
  };
  if ((await call('GET', '/v1/clusters/oceanid')).status === 200) return false;

  await call('POST', '/v1/clusters', {
    id: 'oceanid',
    name: 'Oceanid',
    labels: { site: 'home' },
    nodes: [
      { name: 'oceanid-cp', role: 'control-plane', address: '192.168.2.10' },
      { name: 'oceanid-w1', role: 'worker', address: '192.168.2.11' },
      { name: 'oceanid-w2', role: 'worker', address: '192.168.2.12' },
      { name: 'oceanid-gpu', role: 'gpu', address: '192.168.2.20' },
    ],
  });
  await call('POST', '/v1/tunnels', { id: 'main', cluster: 'oceanid', account, placement: { type: 'cluster', replicas: 2 } });
  await call('POST', '/v1/tunnels', { id: 'gpu', cluster: 'oceanid', account, placement: { type: 'node', node: 'oceanid-gpu' } });
  await call('POST', '/v1/routes', {
    tunnel: 'main',
    hostname: 'label.example.com',
    origin: { service: { namespace: 'apps', name: 'label-studio-ls-app', port: 8085 } },
  });
  // Triton on the GPU box listens on localhost:8000; cloudflared runs there with host networking.
  await call('POST', '/v1/routes', { tunnel: 'gpu', hostname: 'gpu.example.com', origin: { url: 'http://localhost:8000' } });
  await call('POST', '/v1/private-networks', { tunnel: 'main', cidr: '10.43.0.0/16', comment: 'k3s services (API server at 10.43.0.1)' });
  await call('POST', '/v1/private-networks', { tunnel: 'main', cidr: '10.42.0.0/16', comment: 'k3s pods' });
  await call('POST', '/v1/split-tunnel', {
    account,
    profile: 'default',
    mode: 'include',
    address: '10.42.0.0/16',
    description: 'k3s pods (oceanid)',
  });
  await call('POST', '/v1/split-tunnel', {
    account,
    profile: 'default',
    mode: 'include',
    address: '10.43.0.0/16',
    description: 'k3s services (oceanid)',
  });

  await call('POST', '/v1/clusters', { id: 'trinity', name: 'Trinity', nodes: [{ name: 'trinity-1', role: 'control-plane' }] });
  await call('POST', '/v1/tunnels', { id: 'trinity', cluster: 'trinity', account });
  const trinity = [
    ['/admin', 'trinity-admin', 3000],
    ['/api', 'trinity-api', 8080],
    ['/trinityai', 'trinity-ai', 8000],
    ['/', 'trinity-web', 80],
  ];
  for (const [path, name, port] of trinity) {
    await call('POST', '/v1/routes', {
      tunnel: 'trinity',
      hostname: 'trinity.example.com',
      path,
      origin: { service: { namespace: 'trinity', name, port } },
    });
  }
  return true;
}
