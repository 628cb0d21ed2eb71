import { AGENT_BUNDLE, AGENT_BUNDLE_SHA256, AGENT_RELEASE } from '../generated/agent-bundle';

// How the install manifest runs the agent. By default: the official Node image, pinned by digest, running the bundle
// from a ConfigMap of the manifest — nothing to build or publish. Or an image built from agent/Dockerfile (the release
// workflow publishes one per tag), which carries the same bundle and flags itself.

/**
 * node:24-slim (Node 24.19.0, Debian bookworm; glibc, which the malloc tuning below is for), pinned by the digest of its
 * multi-arch image index (linux/amd64, linux/arm64/v8, linux/ppc64le). Source: docker-library/repo-info,
 * repos/node/remote/24-slim.md at commit 2534b852156946f241e96816c7024ef2bb5543fd. To update it, see
 * docs/agent.md → "The agent's image".
 */
export const NODE_IMAGE = 'docker.io/library/node:24-slim@sha256:cd84903a12dbd26b46f1f3b8144a2568c41c5d37ddd0c7a80a34c7a19786b35f';

/** The image the release workflow (.github/workflows/release-agent.yml) publishes, offered by `?image=`. */
export const RELEASE_IMAGE = `ghcr.io/edgeplane/agent:${AGENT_RELEASE}`;

/**
 * The Node flags agent/Dockerfile's ENTRYPOINT runs the agent with (test/agent/install-e2e.test.ts holds the two
 * together): no optimizing compiler, collections between passes, a small young generation and a capped old one.
 */
export const AGENT_NODE_FLAGS = ['--lite-mode', '--expose-gc', '--max-semi-space-size=1', '--max-old-space-size=48'];

/** glibc malloc as agent/Dockerfile's ENV sets it: two arenas, buffers of 64 KiB or more mmap'd and given back. */
export const AGENT_MALLOC_ENV = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '65536', MALLOC_TRIM_THRESHOLD_: '131072' };

/** Where the ConfigMap with the bundle is mounted in the default install. */
export const BUNDLE_DIR = '/opt/edgeplane';
export const BUNDLE_CONFIGMAP = 'edgeplane-agent-bundle';

/** The ConfigMap carrying the agent bundle (≈ 200 KB; a ConfigMap holds up to 1 MiB). */
export function bundleConfigMap(namespace: string, labels: Record<string, string>): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: BUNDLE_CONFIGMAP, namespace, labels, annotations: { 'edgeplane.dev/agent-bundle-sha256': AGENT_BUNDLE_SHA256 } },
    data: { 'agent.cjs': AGENT_BUNDLE },
  };
}

/**
 * What differs between the two ways to run the agent: the container's image, command and extra environment, and the
 * pod's extra volume. `image` undefined is the default (Node image + ConfigMap).
 */
export function agentRuntime(image: string | undefined): {
  image: string;
  command?: string[];
  env: { name: string; value: string }[];
  volumeMounts: { name: string; mountPath: string; readOnly: boolean }[];
  volumes: Record<string, unknown>[];
  podAnnotations: Record<string, string>;
} {
  if (image !== undefined) return { image, env: [], volumeMounts: [], volumes: [], podAnnotations: {} };
  return {
    image: NODE_IMAGE,
    command: ['node', ...AGENT_NODE_FLAGS, `${BUNDLE_DIR}/agent.cjs`],
    env: [{ name: 'NODE_ENV', value: 'production' }, ...Object.entries(AGENT_MALLOC_ENV).map(([name, value]) => ({ name, value }))],
    volumeMounts: [{ name: 'agent-bundle', mountPath: BUNDLE_DIR, readOnly: true }],
    volumes: [{ name: 'agent-bundle', configMap: { name: BUNDLE_CONFIGMAP } }],
    // A new bundle (a Worker deploy) changes the pod template, so applying a new manifest rolls the agent.
    podAnnotations: { 'edgeplane.dev/agent-bundle-sha256': AGENT_BUNDLE_SHA256 },
  };
}
