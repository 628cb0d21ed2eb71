// The identity of a Kubernetes object for the compiler's bundle diff and the agent's inventory. Pure: the agent bundles
// it without zod.
//
// The identity leaves the version out on purpose: an HTTPRoute served as gateway.networking.k8s.io/v1beta1 and as /v1
// is one object, so a bundle that moves it to the new version changes it rather than deleting one object and creating
// another (Flux's inventory keeps the version apart from the id for the same reason).

/** What names an object: its apiVersion, kind, namespace (none for cluster-scoped kinds) and name. */
export interface ObjectIdentity {
  apiVersion: string;
  kind: string;
  namespace?: string | null | undefined;
  name: string;
}

/** The API group of an apiVersion: `apps` of `apps/v1`, `""` for the core group (`v1`). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** The version of an apiVersion: `v1` of `apps/v1` and of `v1`. */
export function versionOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
}

/** The apiVersion of a group and version: `apps/v1`, or `v1` for the core group. */
export const apiVersionOf = (group: string, version: string): string => (group ? `${group}/${version}` : version);

/**
 * `group/kind/namespace/name`, the version left out (core group `""`, cluster-scoped namespace `""`):
 * `apps/Deployment/edgeplane-tunnels/cloudflared-t1`, `/Namespace//edgeplane-tunnels`. Group, namespace and name
 * cannot contain `/`, so the four parts always split back.
 */
export const identityKey = (o: ObjectIdentity): string => `${groupOf(o.apiVersion)}/${o.kind}/${o.namespace ?? ''}/${o.name}`;

/** The identity key of an object with metadata (a bundle object or a live one). */
export const objectKey = (o: { apiVersion: string; kind: string; metadata: { namespace?: string | undefined; name: string } }): string =>
  identityKey({ apiVersion: o.apiVersion, kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name });

/** The parts of a key made by `identityKey`; undefined when it does not have four parts and a kind and name. */
export function parseIdentityKey(key: string): { group: string; kind: string; namespace: string; name: string } | undefined {
  const parts = key.split('/');
  if (parts.length !== 4) return undefined;
  const [group = '', kind = '', namespace = '', name = ''] = parts;
  return kind && name ? { group, kind, namespace, name } : undefined;
}
