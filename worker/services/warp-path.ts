import type { WarpAccess, WarpMissing } from '../../src/shared/api/warp-access';
import { checkCidr, cidrsOverlap, type Cidr } from '../../src/shared/validation';

// The WARP kubectl path, checked from what D1 knows (pure: the loader in warp-access.ts gathers the facts). A packet
// from a laptop on WARP to the API server needs, in order: the device profile's split tunnel to send the address into
// WARP, a private network (teamnet route) in Cloudflare for it, a tunnel of this cluster with warp-routing on to carry
// it, and kubectl needs the cluster CA to trust the server.

/** One tunnel of the cluster, with what the Cloudflare sync last recorded for its config. */
export interface WarpTunnelFacts {
  id: string;
  account: string;
  cloudflareTunnelId: string | null;
  config: { lastSuccessAt: string | null; lastError: string | null; drift: { summary: string; reverted: boolean } | null } | null;
}

/** One private network of a tunnel of the cluster. */
export interface WarpNetworkFacts {
  id: string;
  tunnelId: string;
  cidr: string;
  virtualNetworkId: string | null;
  cloudflareRouteId: string | null;
  createdAt: string;
}

/** One split-tunnel entry of the checked profile (edgeplane's and mirrored foreign ones). */
export interface WarpEntryFacts {
  id: string;
  account: string;
  mode: 'include' | 'exclude';
  address: string | null;
  description: string;
  owner: 'edgeplane' | 'foreign';
}

/** What the sync last pushed to a profile's include list of one account (`cf_sync.owned`), and an unreverted drift. */
export interface WarpIncludeSync {
  owned: string[] | null;
  drift: { summary: string; reverted: boolean } | null;
}

export interface WarpFacts {
  cluster: string;
  /** Canonical IP address of the API server (the cluster's `apiServerAddress`). */
  address: string;
  profile: string;
  caReported: boolean;
  tunnels: WarpTunnelFacts[];
  networks: WarpNetworkFacts[];
  entries: WarpEntryFacts[];
  /** The include list's sync state per account. */
  includeSync: Map<string, WarpIncludeSync>;
}

/** `https://<address>:443`, with brackets for IPv6. */
export const warpServerUrl = (address: string): string => (address.includes(':') ? `https://[${address}]:443` : `https://${address}:443`);

const asCidr = (text: string): Cidr | undefined => {
  const parsed = checkCidr(text);
  return parsed.ok ? parsed.value : undefined;
};

const covers = (cidr: string, address: Cidr): boolean => {
  const network = asCidr(cidr);
  return network !== undefined && cidrsOverlap(network, address) && network.prefix <= address.prefix;
};

/** What to route or include for an address: k3s' whole service CIDR for its default API address, else the host. */
function suggestedCidr(address: Cidr): string {
  if (address.text === '10.43.0.1/32') return '10.43.0.0/16';
  return address.text;
}

/** Checks the WARP path of one cluster; `missing` is empty exactly when it is complete. */
export function checkWarpPath(facts: WarpFacts): WarpAccess {
  const server = warpServerUrl(facts.address);
  const address = asCidr(facts.address);
  if (!address) throw new Error(`cluster "${facts.cluster}": stored apiServerAddress "${facts.address}" is not an IP address`);
  const suggestion = suggestedCidr(address);
  const missing: WarpMissing[] = [];
  const tunnels = new Map(facts.tunnels.map((t) => [t.id, t]));

  // The default virtual network first (a WARP client is in it unless the user switched), then the most specific.
  const network = facts.networks
    .filter((n) => tunnels.has(n.tunnelId) && covers(n.cidr, address))
    .sort(
      (a, b) =>
        Number(a.virtualNetworkId !== null) - Number(b.virtualNetworkId !== null) ||
        (asCidr(b.cidr)?.prefix ?? 0) - (asCidr(a.cidr)?.prefix ?? 0) ||
        a.id.localeCompare(b.id),
    )[0];
  const tunnel = network ? tunnels.get(network.tunnelId) : undefined;

  // The split tunnel is checked in the account of the tunnel that routes the address (or the cluster's one account).
  const accounts = [...new Set(facts.tunnels.map((t) => t.account))];
  const account = tunnel?.account ?? (accounts.length === 1 ? accounts[0] : undefined);
  if (account !== undefined) {
    const split = checkSplitTunnel(facts, account, address, suggestion);
    if (split) missing.push(split);
  }

  if (!network) {
    const how =
      facts.tunnels.length === 0
        ? `cluster "${facts.cluster}" has no tunnel: create one (POST /v1/tunnels) and route ${suggestion} through it`
        : `route it: POST /v1/private-networks {"tunnel": "${facts.tunnels[0]?.id ?? ''}", "cidr": "${suggestion}"}`;
    missing.push({
      reason: 'no_private_network',
      message: `no private network routes ${facts.address} through a tunnel of cluster "${facts.cluster}"; ${how}`,
    });
  } else {
    if (network.cloudflareRouteId === null)
      missing.push({
        reason: 'private_network_not_synced',
        message: `private network ${network.id} (${network.cidr}) is not routed in Cloudflare yet; GET /v1/sync shows target private_network:${network.id}`,
      });
    const warp = tunnel ? warpRoutingProblem(tunnel, facts.networks) : undefined;
    if (warp) missing.push({ reason: 'warp_routing_off', message: warp });
  }

  if (!facts.caReported)
    missing.push({
      reason: 'ca_not_reported',
      message: `the agent of cluster "${facts.cluster}" has not reported the cluster CA yet (it reads ca.crt of the ConfigMap kube-root-ca.crt in its namespace with every status report); install or upgrade it from GET /v1/clusters/${facts.cluster}/install.yaml`,
    });

  return {
    server,
    profile: facts.profile,
    complete: missing.length === 0,
    missing,
    privateNetwork: network?.id ?? null,
    tunnel: network?.tunnelId ?? null,
  };
}

/**
 * Warp-routing is on in the tunnel's desired config from its first private network on; the path needs it in Cloudflare:
 * a config push that succeeded after that network was made, and no unreverted remote edit since.
 */
function warpRoutingProblem(tunnel: WarpTunnelFacts, networks: WarpNetworkFacts[]): string | undefined {
  const since = networks
    .filter((n) => n.tunnelId === tunnel.id)
    .map((n) => n.createdAt)
    .sort()[0];
  const where = `GET /v1/sync shows target tunnel_config:${tunnel.id}`;
  if (tunnel.cloudflareTunnelId === null)
    return `tunnel "${tunnel.id}" does not exist in Cloudflare yet, so warp-routing is not enabled on it; ${where}`;
  const config = tunnel.config;
  if (!config?.lastSuccessAt || (since !== undefined && config.lastSuccessAt < since))
    return `tunnel "${tunnel.id}"'s config with warp-routing enabled has not reached Cloudflare yet${config?.lastError ? ` (last error: ${config.lastError})` : ''}; ${where}`;
  if (config.drift && !config.drift.reverted)
    return `tunnel "${tunnel.id}"'s config in Cloudflare was changed outside edgeplane (${config.drift.summary}), so warp-routing may be off; set the tunnel's driftPolicy to "revert" or push it again`;
  return undefined;
}

/**
 * A device profile is in include mode or exclude mode; D1 does not hold the switch, so a profile with include entries
 * (edgeplane's or mirrored foreign ones) is read as include mode, and one without as exclude mode (Cloudflare's default).
 */
function checkSplitTunnel(facts: WarpFacts, account: string, address: Cidr, suggestion: string): WarpMissing | undefined {
  const entries = facts.entries.filter((e) => e.account === account);
  const includes = entries.filter((e) => e.mode === 'include');
  const excludes = entries.filter((e) => e.mode === 'exclude');
  const add = `POST /v1/split-tunnel {"account": "${account}", "profile": "${facts.profile}", "mode": "include", "address": "${suggestion}"}`;
  const profile = `profile "${facts.profile}" of account ${account}`;
  if (includes.length > 0) {
    const including = includes.filter((e) => e.address !== null && covers(e.address, address));
    // A foreign entry came from Cloudflare's list; edgeplane's own counts once the sync pushed it and no one removed it.
    if (including.some((e) => e.owner === 'foreign')) return undefined;
    const sync = facts.includeSync.get(account);
    const pushed = including.find(
      (e) =>
        e.address !== null &&
        sync?.owned?.includes(e.address) &&
        !(sync.drift && !sync.drift.reverted && sync.drift.summary.includes(e.address)),
    );
    if (pushed) return undefined;
    const waiting = including[0];
    if (waiting?.address)
      return {
        reason: 'split_tunnel_not_synced',
        message:
          sync?.drift && !sync.drift.reverted && sync.drift.summary.includes(waiting.address)
            ? `the include entry ${waiting.address} of ${profile} was removed outside edgeplane (${sync.drift.summary}); set the profile's driftPolicy to "revert" (PUT /v1/split-tunnel-profiles/${facts.profile}) or push it again`
            : `the include entry ${waiting.address} of ${profile} is not in Cloudflare yet; GET /v1/sync shows target split_tunnel ${account}/${facts.profile}:include`,
      };
    return {
      reason: 'split_tunnel_not_included',
      message: `${profile} is in include mode (it has include entries) and none covers ${facts.address}, so WARP does not carry it; add one: ${add}`,
    };
  }
  const excluding = excludes.find((e) => e.address !== null && covers(e.address, address));
  if (excluding) {
    const remove =
      excluding.owner === 'edgeplane'
        ? `DELETE /v1/split-tunnel/${excluding.id}`
        : 'remove it in the Zero Trust dashboard (it was made outside edgeplane)';
    return {
      reason: 'split_tunnel_excluded',
      message: `the exclude entry ${excluding.address ?? ''}${excluding.description ? ` ("${excluding.description}")` : ''} of ${profile} keeps ${facts.address} out of WARP; ${remove}, or switch the profile to include mode with ${add}`,
    };
  }
  if (excludes.length > 0) return undefined;
  return {
    reason: 'split_tunnel_not_included',
    message: `edgeplane knows no split-tunnel entry of ${profile} that sends ${facts.address} into WARP (Cloudflare's default is exclude mode with the private ranges, 10.0.0.0/8 among them, excluded); add an include entry: ${add}`,
  };
}
