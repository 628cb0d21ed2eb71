import { describe, expect, it } from 'vitest';
import { adviseOrigin } from '../../../src/shared/compiler';

describe('adviseOrigin', () => {
  it('turns in-cluster Service URLs into Service origins (port defaults to 80)', () => {
    expect(adviseOrigin('http://api.web.svc.cluster.local:8080')).toEqual({
      origin: { service: { namespace: 'web', name: 'api', port: 8080 } },
    });
    expect(adviseOrigin('http://api.web.svc')).toEqual({ origin: { service: { namespace: 'web', name: 'api', port: 80 } } });
    // https stays a URL: a Service origin compiles to http.
    expect(adviseOrigin('https://api.web.svc.cluster.local:8443')).toEqual({ origin: { url: 'https://api.web.svc.cluster.local:8443' } });
  });

  it('flags Docker network names with the in-cluster equivalent', () => {
    expect(adviseOrigin('http://traefik:80')).toMatchObject({
      origin: { url: 'http://traefik:80' },
      suggestedOrigin: { service: { namespace: 'kube-system', name: 'traefik', port: 80 } },
    });
    expect(adviseOrigin('https://minio:9000')).toMatchObject({ suggestedOrigin: { url: 'https://minio.default.svc.cluster.local:9000' } });
    const odd = adviseOrigin('http://my_app:80');
    expect(odd.suggestedOrigin).toBeUndefined();
    expect(odd.warning).toContain('Docker network name');
  });

  it("flags loopback and Docker host names unless the connector shares the node's network", () => {
    for (const url of ['http://localhost:8000', 'http://127.0.0.1:8000', 'http://[::1]:8000']) {
      expect(adviseOrigin(url).warning, url).toContain('is the pod itself');
      expect(adviseOrigin(url, 'node').warning, url).toBeUndefined();
    }
    expect(adviseOrigin('http://host.docker.internal:3000').warning).toContain('exists only under Docker');
    expect(adviseOrigin('unix:/run/app.sock').warning).toContain('socket');
  });

  it('leaves ordinary origins alone', () => {
    for (const url of ['http://10.0.0.5:8000', 'https://gpu.example.com', 'http_status:404', 'tcp://db.internal.lan:5432', 'hello_world']) {
      expect(adviseOrigin(url), url).toEqual({ origin: { url } });
    }
  });
});
