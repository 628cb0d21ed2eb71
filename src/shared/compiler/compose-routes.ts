import { checkHostname } from '../validation/hostname';
import { checkPathPrefix } from '../validation/path-prefix';
import type { ComposeOptions, ComposeProposal, ComposeRoute } from './compose-import';
import { toLabel } from './compose-service';
import { readTraefikLabels, readTraefikRule } from './compose-traefik';
import { parseCloudflaredConfigYaml } from './import-config';

/** Adds a route unless one with the same hostname and path is already proposed (the first wins, as it would in Traefik by order). */
function addRoute(proposal: ComposeProposal, route: ComposeRoute, rule: string): void {
  const same = proposal.routes.find((r) => r.hostname === route.hostname && r.path === route.path);
  if (same) proposal.unrouted.push({ from: route.from, rule, reason: `same hostname and path as ${same.from}` });
  else proposal.routes.push(route);
}

/** Routes from one service's Traefik router labels, straight to its new Service; untranslatable rules are reported. */
export function routesFromLabels(
  entry: { name: string; labels: Record<string, string>; ports: number[]; id: string },
  options: ComposeOptions,
  proposal: ComposeProposal,
): void {
  const t = readTraefikLabels(entry.labels);
  if (t.enabled === false || t.routers.length === 0) return;
  const report = proposal.services.find((s) => s.service === entry.name);
  for (const router of t.routers) {
    const from = `traefik:${router.name}`;
    const unrouted = (reason: string) =>
      proposal.unrouted.push({ from, rule: router.rule ?? '', reason: `service "${entry.name}": ${reason}` });
    if (!router.rule) {
      unrouted('the router has no rule');
      continue;
    }
    const rule = readTraefikRule(router.rule);
    if (!rule.ok) {
      unrouted(rule.reason);
      continue;
    }
    const servicePorts = Object.values(t.ports);
    const port = router.service
      ? t.ports[router.service]
      : servicePorts.length === 1
        ? servicePorts[0]
        : entry.ports.length === 1
          ? entry.ports[0]
          : undefined;
    if (port === undefined) {
      unrouted('cannot tell which port it serves; add traefik.http.services.<name>.loadbalancer.server.port');
      continue;
    }
    const hosts = rule.hosts.length > 0 ? rule.hosts : options.hostname ? [options.hostname] : [];
    if (hosts.length === 0) {
      unrouted('the rule has no Host(...); pass "hostname" in the request to route it');
      continue;
    }
    let path: string | undefined;
    if (rule.pathPrefix !== null && rule.pathPrefix !== '/') {
      const checked = checkPathPrefix(rule.pathPrefix.replace(/\/+$/, ''));
      if (!checked.ok) {
        unrouted(checked.message);
        continue;
      }
      path = checked.value;
    }
    if (router.middlewares) {
      report?.warnings.push(
        `router ${router.name}: middlewares "${router.middlewares}" are not translated (a strip-prefix one means the app now sees the full path)`,
      );
    }
    // Two routers of one service often share its port: the workload gets it once (a repeat is a 422 on write).
    const workload = report?.workload;
    if (!entry.ports.includes(port) && workload && !workload.ports.some((p) => (typeof p === 'number' ? p : p.port) === port))
      workload.ports.push(port);
    for (const host of hosts) {
      const checked = checkHostname(host);
      if (!checked.ok) {
        unrouted(checked.message);
        continue;
      }
      addRoute(proposal, { from, hostname: checked.value, ...(path ? { path } : {}), workload: entry.id, port }, router.rule);
    }
  }
}

/** A cloudflared config's rules: origins naming compose services go to their Services; Traefik's are covered by its labels. */
export function routesFromCloudflared(name: string, ids: Map<string, string>, options: ComposeOptions, proposal: ComposeProposal): void {
  if (!options.cloudflaredConfig) {
    proposal.warnings.push(
      `service "${name}" runs cloudflared; its rules were not pasted (cloudflaredConfig), so only the Traefik routes are imported. A token-run tunnel's remote config can be read with POST /v1/import/remote-config`,
    );
    return;
  }
  const parsed = parseCloudflaredConfigYaml(options.cloudflaredConfig);
  if (!parsed.ok) {
    for (const e of parsed.errors) proposal.unrouted.push({ from: `cloudflared:${e.path}`, rule: '', reason: e.message });
    return;
  }
  for (const p of parsed.proposal.routes) {
    const from = `cloudflared:ingress[${p.index}]`;
    const url = 'url' in p.route.origin ? p.route.origin.url : '';
    const m = /^https?:\/\/([a-z0-9_-]+)(?::(\d+))?\/?$/i.exec(url);
    const target = m?.[1] ? toLabel(m[1]) : null;
    if (m && target === 'traefik') {
      const covered = proposal.routes.some((r) => r.hostname === p.route.hostname);
      proposal.unrouted.push({
        from,
        rule: `${p.route.hostname}${p.route.path ?? ''} → ${url}`,
        reason: covered
          ? "replaced by the Traefik routers' routes straight to the Services"
          : 'pointed at Traefik, but no Traefik router serves this hostname',
      });
      continue;
    }
    if (m && target && ids.has(target)) {
      const port = Number(m[2] ?? (url.startsWith('https') ? 443 : 80));
      const route = { from, hostname: p.route.hostname, ...(p.route.path ? { path: p.route.path } : {}), workload: target, port };
      addRoute(proposal, route, `${p.route.hostname}${p.route.path ?? ''} → ${url}`);
      continue;
    }
    proposal.unrouted.push({
      from,
      rule: `${p.route.hostname} → ${url}`,
      reason: 'its origin is not a service of this compose file; import it with /v1/import/cloudflared-config',
    });
  }
}
