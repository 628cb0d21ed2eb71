import type { UrlMatch } from '../../src/shared/api';
import { loadConfig, matchRequest, parseRequestUrl, validateIngress, type ValidRule } from '../../src/shared/cloudflared';
import { compileTracedRules } from '../../src/shared/compiler';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import { loadDesiredTunnel } from '../db/desired-state';

/** Answers each URL against validated rules; `routeIds[i]` is the route behind rule i. */
function answer(rules: ValidRule[], urls: string[], routeIds: (string | null)[]): UrlMatch[] {
  const problems = urls.flatMap((u, i) => {
    const parsed = parseRequestUrl(u);
    return parsed.ok ? [] : [{ path: `body.urls.${i}`, message: parsed.message }];
  });
  if (problems.length > 0) {
    throw new AppError('validation_failed', `${problems.length} URL(s) cannot be read: ${problems[0]?.message}`, { details: problems });
  }
  return urls.map((u) => {
    const parsed = parseRequestUrl(u);
    if (!parsed.ok) throw new AppError('validation_failed', parsed.message);
    if (rules.length === 0) {
      return {
        url: u,
        host: parsed.request.host,
        path: parsed.request.path,
        index: -1,
        catchAll: true,
        hostname: null,
        pathRegex: null,
        service: 'http_status:503',
        originKind: 'http_status',
        routeId: null,
      };
    }
    const outcome = matchRequest(rules, parsed.request);
    const rule = rules[outcome.index];
    const miss = outcome.nearestMiss;
    return {
      url: u,
      host: outcome.host,
      path: outcome.path,
      index: outcome.index,
      catchAll: outcome.catchAll,
      hostname: rule?.hostname || null,
      pathRegex: rule?.path || null,
      service: rule?.service ?? '',
      originKind: rule?.origin.kind ?? 'http_status',
      routeId: routeIds[outcome.index] ?? null,
      ...(miss ? { nearestMiss: { index: miss.index, hostname: rules[miss.index]?.hostname || null, reason: miss.reason } } : {}),
    };
  });
}

/** Which rule of a tunnel's compiled config serves each URL, exactly as cloudflared would choose. */
export async function matchTunnelUrls(deps: Deps, tunnelId: string, urls: string[]): Promise<{ matches: UrlMatch[]; warnings: string[] }> {
  const traced = compileTracedRules(await loadDesiredTunnel(deps, tunnelId, { withTokens: false }));
  const checked = validateIngress(
    traced.map(({ rule }) => ({
      hostname: rule.hostname ?? '',
      path: rule.path ?? '',
      service: rule.service,
      originRequest: rule.originRequest ?? {},
    })),
  );
  // The compiler only emits configs cloudflared accepts; a refusal here is a bug worth surfacing, not hiding.
  if (!checked.ok)
    throw new AppError('validation_failed', `the compiled config would be refused by cloudflared: ${checked.problem.message}`);
  return {
    matches: answer(
      checked.rules,
      urls,
      traced.map((t) => t.routeId),
    ),
    warnings: [],
  };
}

/** The route tester for a config edgeplane does not manage: refused as cloudflared would refuse it, else matched in order. */
export function matchConfigUrls(config: string | Record<string, unknown>, urls: string[]): { matches: UrlMatch[]; warnings: string[] } {
  const loaded = loadConfig(config);
  if (!loaded.ok) {
    throw new AppError('validation_failed', `cloudflared would refuse this config: ${loaded.message}`, {
      details: [{ path: `body.config${loaded.path === 'config' ? '' : `.${loaded.path}`}`, message: loaded.message }],
    });
  }
  return { matches: answer(loaded.rules, urls, []), warnings: loaded.warnings.map((w) => w.message) };
}
