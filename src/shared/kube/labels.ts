// The labels edgeplane puts on every object it generates and reads back before it prunes one. Pure constants: the
// compiler (workerd, browsers) and the agent (bundled without zod) import the same definitions.

/** The standard managed-by label; edgeplane's objects carry the value `edgeplane`. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

/** The label naming the cluster an object belongs to. */
export const CLUSTER_LABEL = 'edgeplane.dev/cluster';

/** The label naming the workload an object belongs to (also its pods' selector). */
export const WORKLOAD_LABEL = 'edgeplane.dev/workload';

/** The label naming the tunnel an object belongs to. */
export const TUNNEL_LABEL = 'edgeplane.dev/tunnel';

/** Labels every generated object carries. */
export const MANAGED_BY = { [MANAGED_BY_LABEL]: 'edgeplane' } as const;
