import { toASCII } from 'tr46';

// cloudflared's hostname rules (ingress/ingress.go validateHostname, matchHost and the punycode alias computed in
// validateIngress with golang.org/x/net/idna's Lookup profile). They are far looser than a DNS name: a rule hostname is
// compared byte for byte with the request's Host, so anything without a port and with "*" only in first place passes.

/** cloudflared's refusal of a rule hostname, or undefined when it accepts it. */
export function ruleHostnameProblem(hostname: string): string | undefined {
  if (hasPort(hostname)) return `hostname "${hostname}" cannot contain a port`;
  if (hostname.lastIndexOf('*') > 0) {
    return `hostname "${hostname}": patterns can have at most one wildcard character ("*") and it can only be used for subdomains, e.g. "*.example.com"`;
  }
  return undefined;
}

/** Go's net.SplitHostPort succeeds: a "host:port" (port may be empty or named) or "[v6]:port", with one colon outside brackets. */
function hasPort(hostport: string): boolean {
  return splitHostPort(hostport) !== undefined;
}

/** Go's net.SplitHostPort: the host when the text is host:port, else undefined. */
export function splitHostPort(hostport: string): string | undefined {
  if (hostport.startsWith('[')) {
    const m = /^\[([^\]]*)\]:([^:[\]]*)$/.exec(hostport);
    return m ? (m[1] ?? '') : undefined;
  }
  const colon = hostport.lastIndexOf(':');
  if (colon < 0) return undefined;
  const host = hostport.slice(0, colon);
  if (host.includes(':') || host.includes('[') || host.includes(']') || hostport.slice(colon + 1).includes(']')) return undefined;
  return host;
}

/**
 * The punycode alias cloudflared computes for a rule hostname (idna.Lookup.ToASCII: UTS #46 mapping, so also
 * lower-casing, with STD3 rules and hyphen checks); undefined when the conversion fails or changes nothing. A wildcard
 * fails STD3 rules, so `*.` hostnames never get an alias.
 */
export function punycodeAlias(hostname: string): string | undefined {
  const ascii = toASCII(hostname, {
    checkHyphens: true,
    checkBidi: true,
    checkJoiners: true,
    useSTD3ASCIIRules: true,
    transitionalProcessing: false,
    verifyDNSLength: false,
  });
  return ascii === null || ascii === hostname ? undefined : ascii;
}

/** cloudflared's matchHost: equal bytes, or a `*.` rule whose remainder (with its dot) ends the request host, at any depth. */
export function matchHost(ruleHost: string, reqHost: string): boolean {
  if (ruleHost === reqHost) return true;
  return ruleHost.startsWith('*.') && reqHost.endsWith(ruleHost.slice(1));
}
