import type { Origin, Placement } from '../../src/shared/api';
import {
  type ImportResult,
  parseCloudflaredConfigYaml,
  parseRemoteConfig,
  type ProposedRoute,
  type UnsupportedRule,
} from '../../src/shared/compiler';
import { inList } from '../db/json-list';
import { routes } from '../db/schema';
import { StagedView, storeView } from '../db/view';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import { commitPrepared } from './prepared';
import { prepareRouteCreate } from './routes';
import { loadReferencedTunnel } from './tunnels';

/** What to import and how. */
export interface ImportRequest {
  tunnel: string;
  source: { kind: 'cloudflared-config'; yaml: string } | { kind: 'remote-config'; json: unknown };
  /** Report only (the default), or create the routes. */
  dryRun: boolean;
  /** Create routes with the suggested in-cluster origin instead of one that cannot work from a pod. */
  useSuggestedOrigins: boolean;
}

/** One imported rule's outcome. */
export interface ImportedRouteReport extends ProposedRoute {
  status: 'would-create' | 'created' | 'skipped';
  reason?: string;
  /** Id of the created route. */
  id?: string;
}

/** What an import did (or, in a dry run, would do). */
export interface ImportReport {
  tunnel: string;
  dryRun: boolean;
  routes: ImportedRouteReport[];
  unsupported: UnsupportedRule[];
  catchAll: { index: number; service: string; tunnelCatchAll: string; differs: boolean } | null;
  originRequest: Record<string, unknown>;
  warpRouting: boolean | null;
  /** The proposal's warnings not tied to one rule. */
  warnings: string[];
  summary: { create: number; created: number; skipped: number; unsupported: number; warnings: number };
}

/** Reads a cloudflared config.yml or a remote config and creates (or, in a dry run, proposes) the tunnel's routes. */
export async function importRoutes(deps: Deps, request: ImportRequest): Promise<ImportReport> {
  const tunnel = await loadReferencedTunnel(deps, request.tunnel);
  const placement = (tunnel.placement as Placement).type;
  const parsed: ImportResult =
    request.source.kind === 'cloudflared-config'
      ? parseCloudflaredConfigYaml(request.source.yaml, { placement })
      : parseRemoteConfig(request.source.json, { placement });
  if (!parsed.ok) {
    // Rule errors point into the body (body.config.ingress[2].service); YAML syntax errors keep their line in the message.
    const details = parsed.errors.map((e) =>
      e.path.startsWith('config')
        ? { path: 'body.config', message: e.path === 'config' ? e.message : `${e.path}: ${e.message}` }
        : { path: `body.config.${e.path}`, message: e.message },
    );
    const first = parsed.errors[0];
    throw new AppError(
      'validation_failed',
      `the imported config is not valid: ${first ? `${first.path}: ${first.message}` : 'unreadable'}${parsed.errors.length > 1 ? ` (and ${parsed.errors.length - 1} more)` : ''}`,
      {
        details,
      },
    );
  }
  const proposal = parsed.proposal;
  const hostnames = [...new Set(proposal.routes.map((p) => p.route.hostname))];
  const existing = await deps.db.select().from(routes).where(inList(routes.hostname, hostnames));
  const reports: ImportedRouteReport[] = [];
  const view = request.dryRun ? new StagedView(storeView(deps.db)) : storeView(deps.db);
  for (const proposed of proposal.routes) {
    const origin: Origin = request.useSuggestedOrigins && proposed.suggestedOrigin ? proposed.suggestedOrigin : proposed.route.origin;
    const route = { ...proposed.route, origin };
    const path = route.path ?? '';
    const elsewhere = existing.find((r) => r.hostname === route.hostname && r.tunnelId !== tunnel.id);
    const pathRegex = route.pathRegex ?? '';
    const same = existing.find(
      (r) => r.hostname === route.hostname && r.path === path && r.pathRegex === pathRegex && r.tunnelId === tunnel.id,
    );
    const base = { ...proposed, route };
    if (elsewhere) {
      reports.push({
        ...base,
        status: 'skipped',
        reason: `hostname "${route.hostname}" is already routed through tunnel "${elsewhere.tunnelId}" (route ${elsewhere.id})`,
      });
    } else if (same) {
      reports.push({ ...base, status: 'skipped', reason: `already routed on this tunnel by route ${same.id}` });
    } else {
      // The endpoint's own decision (prepareRouteCreate), so a dry run reports exactly what the import would do: in a
      // dry run over a staged view (later rules see earlier ones, nothing is written); otherwise each route is its
      // own atomic write (route, revision bump, audit, outbox), and a refusal skips only that route.
      try {
        const prepared = await prepareRouteCreate(deps, view, { tunnel: tunnel.id, ...route });
        if (view instanceof StagedView) {
          view.apply(prepared.rows);
          reports.push({ ...base, status: 'would-create' });
        } else {
          const created = await commitPrepared(deps, Promise.resolve(prepared));
          reports.push({ ...base, status: 'created', id: created.id });
        }
      } catch (error) {
        if (!(error instanceof AppError) || error.status >= 500) throw error;
        reports.push({ ...base, status: 'skipped', reason: error.message });
      }
    }
  }
  const catchAll = proposal.catchAll
    ? { ...proposal.catchAll, tunnelCatchAll: tunnel.catchAll, differs: proposal.catchAll.service !== tunnel.catchAll }
    : null;
  return {
    tunnel: tunnel.id,
    dryRun: request.dryRun,
    routes: reports,
    unsupported: proposal.unsupported,
    catchAll,
    originRequest: proposal.originRequest,
    warpRouting: proposal.warpRouting,
    warnings: proposal.warnings,
    summary: {
      create: reports.filter((r) => r.status === 'would-create').length,
      created: reports.filter((r) => r.status === 'created').length,
      skipped: reports.filter((r) => r.status === 'skipped').length,
      unsupported: proposal.unsupported.length,
      warnings: proposal.warnings.length + reports.reduce((n, r) => n + r.warnings.length, 0),
    },
  };
}
