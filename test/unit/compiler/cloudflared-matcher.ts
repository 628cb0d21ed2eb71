// The compiled config as cloudflared would run it, through the product's matcher (src/shared/cloudflared): validated
// by validateIngress (a config cloudflared would refuse fails the test), then FindMatchingRule's choice. cloudflared
// compares hostnames byte for byte; these properties are about rule order, so requests are sent with the lower-case
// Host the compiler's lower-case hostnames are written for (case is covered in test/unit/cloudflared).
import { findMatchingRule as findRule, splitHostPort, validateIngress } from '../../../src/shared/cloudflared';
import type { TunnelConfig } from '../../../src/shared/compiler';

/** cloudflared's Ingress.FindMatchingRule over a compiled config: the index of the rule the request reaches. */
export function findMatchingRule(config: TunnelConfig, hostHeader: string, path: string): number {
  const checked = validateIngress(
    config.ingress.map((r) => ({
      hostname: r.hostname ?? '',
      path: r.path ?? '',
      service: r.service,
      originRequest: r.originRequest ?? {},
    })),
  );
  if (!checked.ok) throw new Error(`cloudflared would refuse the compiled config: ${checked.problem.message}`);
  return findRule(checked.rules, { host: hostHeader.toLowerCase(), path });
}

/** Go's net.SplitHostPort applied only when it succeeds: "[::1]:80" → "::1", "a.com:443" → "a.com", "a.com" → "a.com". */
export const stripPort = (hostport: string): string => splitHostPort(hostport) ?? hostport;
