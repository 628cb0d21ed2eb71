import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { AGENT_BUNDLE, AGENT_BUNDLE_SHA256 } from '../../worker/generated/agent-bundle';
import { NODE_IMAGE, RELEASE_IMAGE } from '../../worker/services/agent-runtime';
import { clusterWithTunnel } from './fixtures';
import { api, count, expectError } from './helpers';

// How the install manifest runs the agent: by default the official Node image pinned by digest with the bundle in a
// ConfigMap; with ?image= an image built from agent/Dockerfile. test/agent/install-e2e.test.ts runs the default one.

interface Container {
  image: string;
  command?: string[];
  env: { name: string; value: string }[];
  volumeMounts: { name: string; mountPath: string }[];
}
interface Doc {
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
  spec?: { template: { metadata: { annotations?: Record<string, string> }; spec: { containers: Container[]; volumes: unknown[] } } };
}

async function manifest(query = ''): Promise<{ text: string; docs: Doc[] }> {
  const { cluster } = await clusterWithTunnel();
  const response = await api('GET', `/v1/clusters/${cluster}/install.yaml${query}`);
  expect(response.status).toBe(200);
  const text = await response.text();
  return { text, docs: parseAllDocuments(text).map((d) => d.toJSON() as Doc) };
}

describe('install manifest runtime', () => {
  it('runs the bundle from a ConfigMap on the official Node image pinned by its index digest', async () => {
    const { text, docs } = await manifest();
    const configMap = docs.find((d) => d.kind === 'ConfigMap');
    expect(configMap?.data?.['agent.cjs']).toBe(AGENT_BUNDLE);
    expect(AGENT_BUNDLE.length).toBeGreaterThan(50_000);
    expect(AGENT_BUNDLE.length).toBeLessThan(1_000_000); // a ConfigMap holds at most 1 MiB
    const deployment = docs.find((d) => d.kind === 'Deployment');
    const container = deployment?.spec?.template.spec.containers[0];
    expect(container?.image).toBe(NODE_IMAGE);
    expect(NODE_IMAGE).toMatch(/^docker\.io\/library\/node:24-slim@sha256:[0-9a-f]{64}$/);
    expect(container?.command).toEqual([
      'node',
      '--lite-mode',
      '--expose-gc',
      '--max-semi-space-size=1',
      '--max-old-space-size=48',
      '/opt/edgeplane/agent.cjs',
    ]);
    expect(container?.volumeMounts).toContainEqual(expect.objectContaining({ name: 'agent-bundle', mountPath: '/opt/edgeplane' }));
    expect(deployment?.spec?.template.metadata.annotations).toEqual({ 'edgeplane.dev/agent-bundle-sha256': AGENT_BUNDLE_SHA256 });
    expect(text).toContain(`?image=${RELEASE_IMAGE}`);
  });

  it('runs an image built from agent/Dockerfile when asked, with no ConfigMap', async () => {
    const { docs } = await manifest(`?image=${encodeURIComponent(RELEASE_IMAGE)}`);
    expect(docs.map((d) => d.kind)).not.toContain('ConfigMap');
    const container = docs.find((d) => d.kind === 'Deployment')?.spec?.template.spec.containers[0];
    expect(container?.image).toBe(RELEASE_IMAGE);
    expect(container?.command).toBeUndefined();
    expect(container?.env.map((e) => e.name)).not.toContain('MALLOC_ARENA_MAX');
  });

  it('refuses an image that is not an image reference, and issues no token', async () => {
    const { cluster } = await clusterWithTunnel();
    const before = await count('bootstrap_tokens');
    const bad = await expectError(
      await api('GET', `/v1/clusters/${cluster}/install.yaml?image=${encodeURIComponent('evil image; rm -rf /')}`),
      422,
      'validation_failed',
    );
    expect(bad.error.details?.[0]?.path).toBe('query.image');
    expect(await count('bootstrap_tokens')).toBe(before);
  });
});
