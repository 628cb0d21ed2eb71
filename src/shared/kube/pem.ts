/**
 * One or more PEM certificates and nothing else: `ca.crt` of `kube-root-ca.crt` holds a bundle during a CA rotation.
 * Shared by the agent (what it reports) and the status schema (what the Worker accepts).
 */
export const PEM_CERTIFICATES = /^\s*(-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\s*)+$/;

/** The longest cluster CA bundle a report may carry. */
export const MAX_CLUSTER_CA_LENGTH = 65_536;
