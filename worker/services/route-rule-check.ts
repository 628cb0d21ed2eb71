import type { IngressProblem } from '../../src/shared/cloudflared';
import { checkRouteRule } from '../../src/shared/compiler';
import { checkPathRegex } from '../../src/shared/validation';
import { toApiRoute, toApiTunnel } from '../db/mappers';
import type { RouteRow, TunnelRow } from '../db/view';
import { AppError } from '../errors';

// The checks of a route write that concern the rule cloudflared will run. They live in prepare (not in the zod body
// schema) so that POST /v1/plan, which runs the same prepare functions, answers each change exactly as the endpoint:
// a change the schema refused would fail the whole plan request instead.

/** The path fields of a create or update body. */
export interface PathFields {
  path?: string | null;
  pathRegex?: string | null;
}

/** A route matches paths by a prefix or a regex, not both; a regex must be one Go's regexp.Compile accepts. */
export function checkPathFields(input: PathFields): void {
  if (typeof input.path === 'string' && typeof input.pathRegex === 'string') {
    throw new AppError(
      'validation_failed',
      'body.pathRegex: give either "path" (a prefix) or "pathRegex" (a cloudflared regex), not both',
      {
        details: [{ path: 'body.pathRegex', message: 'exclusive with "path"; a route has one path matcher' }],
      },
    );
  }
  if (typeof input.pathRegex !== 'string') return;
  const checked = checkPathRegex(input.pathRegex);
  if (!checked.ok)
    throw new AppError('validation_failed', `body.pathRegex: ${checked.message}`, {
      details: [{ path: 'body.pathRegex', message: checked.message }],
    });
}

/**
 * A tunnel in `ingress` or `gateway` mode sends a Service origin to its ingress controller / Gateway, which routes again
 * by host and path prefix (Kubernetes Ingress and HTTPRoute have no RE2 regex match): the controller would not send
 * what the regex matched to this route's Service. Such a route is refused rather than compiled into a wrong object.
 */
export function checkRegexRouting(row: RouteRow, tunnel: TunnelRow, field: string): void {
  const mode = (tunnel.mode as { type?: string } | null)?.type ?? 'direct';
  if (row.pathRegex === '' || mode === 'direct' || 'url' in (row.origin as object)) return;
  const message = `tunnel "${tunnel.id}" routes Service origins through its ${mode === 'ingress' ? 'Ingress controller' : 'Gateway'}, which matches path prefixes only; a pathRegex route needs a URL origin here, or a tunnel in direct mode`;
  throw new AppError('validation_failed', `${field}: ${message}`, { details: [{ path: field, message }] });
}

/** Where in the body the field cloudflared refused lives. */
function bodyPath(problem: IngressProblem, row: RouteRow): string {
  if (problem.index !== 0) return 'body.tunnel'; // the tunnel's own catch-all
  switch (problem.field) {
    case 'service':
      return 'url' in (row.origin as object) ? 'body.origin.url' : 'body.origin';
    case 'path':
      return row.pathRegex ? 'body.pathRegex' : 'body.path';
    case 'hostname':
      return 'body.hostname';
    case 'originRequest.access':
      return row.access ? 'body.access' : 'body.originRequest.access';
    case 'originRequest.ipRules':
      return 'body.originRequest.ipRules';
    default:
      return 'body';
  }
}

/**
 * Refuses a write whose route would make cloudflared refuse the tunnel's config (checkRouteRule: the rule as compiled,
 * with the catch-all and the tunnel's defaults, through cloudflared's validateIngress): 422 naming the rule and
 * cloudflared's reason. Nothing cloudflared refuses is written, so nothing it refuses is pushed.
 */
export function checkRuleLoads(row: RouteRow, tunnel: TunnelRow): void {
  const checked = checkRouteRule(toApiRoute(row), toApiTunnel(tunnel, false));
  if (checked.ok) return;
  const { problem } = checked;
  const reason = problem.message.replace(/^rule #\d+: /, '');
  const rulePath = row.pathRegex || row.path;
  const rule = `the rule for "${row.hostname}"${rulePath ? ` ${row.pathRegex ? 'pathRegex' : 'path'} "${rulePath}"` : ''}`;
  const path = bodyPath(problem, row);
  throw new AppError('validation_failed', `cloudflared would refuse tunnel "${tunnel.id}"'s config with ${rule}: ${reason}`, {
    details: [{ path, message: reason }],
  });
}
