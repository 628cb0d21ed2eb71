import { parseDocument } from 'yaml';
import type { InfraInstance } from '../kube/infra';
import { infraVariables } from './compose-infra';
import { interpolate, type VariableUse } from './compose-interpolate';
import { type ComposeWorkload, keyValues, type NotPortable, readComposeService, toLabel } from './compose-service';
import { routesFromCloudflared, routesFromLabels } from './compose-routes';

export type { ComposeWorkload, NotPortable } from './compose-service';
export type { VariableUse } from './compose-interpolate';

/** How to read a compose file. */
export interface ComposeOptions {
  namespace: string;
  /** Values for `${VAR}`: they win over compose defaults. */
  env: Readonly<Record<string, string>>;
  /** Contents of the files `env_file` names, by the path written in the compose file. */
  envFiles: Readonly<Record<string, string>>;
  /** The hostname for Traefik rules that have only a PathPrefix. */
  hostname?: string;
  /** The config.yml of a cloudflared service in the file, when it runs from one. */
  cloudflaredConfig?: string;
  /** Backing services of the target cluster: a variable source after `env` and before compose defaults (compose-infra.ts). */
  infra?: readonly InfraInstance[];
}

/** One compose service's outcome. */
export interface ComposeServiceReport {
  service: string;
  status: 'workload' | 'skipped';
  workload?: ComposeWorkload;
  reason?: string;
  /** Where each `${VAR}` of the service got its value (request, compose default, or unset → ""). */
  variables: VariableUse[];
  warnings: string[];
  notPortable: NotPortable[];
}

/** A tunnel route the import proposes: straight to a new workload's Service. */
export interface ComposeRoute {
  /** Traefik router (`traefik:<router>`) or cloudflared rule (`cloudflared:ingress[i]`) it comes from. */
  from: string;
  hostname: string;
  path?: string;
  workload: string;
  port: number;
}

/** A router or rule that did not become a route, and why. */
export interface UnroutedRule {
  from: string;
  rule: string;
  reason: string;
}

/** What importing a compose file would do. */
export interface ComposeProposal {
  services: ComposeServiceReport[];
  routes: ComposeRoute[];
  unrouted: UnroutedRule[];
  warnings: string[];
}

/** An error that stops the import: where in the file and what is wrong. */
export interface ComposeError {
  path: string;
  message: string;
}

export type ComposeResult = { ok: true; proposal: ComposeProposal } | { ok: false; errors: ComposeError[] };

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Interpolates every string in a value (keys stay as written, as compose does for keys). */
function interpolateTree(
  value: unknown,
  vars: Readonly<Record<string, string>>,
  uses: VariableUse[],
  missing: string[],
  infra: Readonly<Record<string, string>> = {},
): unknown {
  if (typeof value === 'string') {
    const result = interpolate(value, vars, infra);
    uses.push(...result.uses);
    missing.push(...result.missing.map((m) => `${m.name}: ${m.message}`));
    return result.value;
  }
  if (Array.isArray(value)) return value.map((v) => interpolateTree(v, vars, uses, missing, infra));
  if (isRecord(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateTree(v, vars, uses, missing, infra)]));
  return value;
}

const dedupe = (uses: VariableUse[]): VariableUse[] => {
  const seen = new Map<string, VariableUse>();
  for (const u of uses) if (!seen.has(u.name) || u.source === 'request') seen.set(u.name, u);
  return [...seen.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
};

/** True for a cloudflared connector service (`cloudflare/cloudflared` image running `tunnel ... run`). */
const isCloudflared = (service: Record<string, unknown>): boolean =>
  typeof service.image === 'string' && /(^|\/)cloudflared(:|@|$)/.test(service.image);

/**
 * Reads a docker-compose.yml into workloads and tunnel routes. Variables resolve from the request's `env`, then the compose
 * default; a `${VAR:?}` with neither is an error naming the service and variable. Traefik router labels
 * (`Host(...) && PathPrefix(...)` plus `loadbalancer.server.port`) become routes to the new Services; a rule that cannot
 * be translated is reported, not guessed. A cloudflared service is recognised, not deployed: its config (when pasted)
 * is read with the cloudflared import and origins naming compose services (`traefik:80`, `api:8001`) are redirected.
 */
export function readCompose(text: string, options: ComposeOptions): ComposeResult {
  if (text.trim() === '') return { ok: false, errors: [{ path: 'compose', message: 'the compose file is empty' }] };
  const doc = parseDocument(text, { merge: true, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => ({
        path: e.linePos?.[0] ? `compose line ${e.linePos[0].line} column ${e.linePos[0].col}` : 'compose',
        message: `not valid YAML: ${(e.message.split('\n')[0] ?? e.code).replace(/ at line \d+, column \d+:?$/, '')}`,
      })),
    };
  }
  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    return {
      ok: false,
      errors: [{ path: 'compose', message: `cannot be read: ${error instanceof Error ? error.message : String(error)}` }],
    };
  }
  if (!isRecord(root) || !isRecord(root.services) || Object.keys(root.services).length === 0) {
    return { ok: false, errors: [{ path: 'compose.services', message: 'expected a "services:" mapping with at least one service' }] };
  }
  const errors: ComposeError[] = [];
  const services: ComposeServiceReport[] = [];
  const proposal: ComposeProposal = { services, routes: [], unrouted: [], warnings: [] };
  const ids = new Map<string, string>();
  const traefik: { name: string; labels: Record<string, string>; ports: number[]; id: string }[] = [];
  let cloudflared: string | null = null;
  const rawServices = root.services;
  const images = Object.values(rawServices).flatMap((s) => (isRecord(s) && typeof s.image === 'string' ? [s.image] : []));
  const infraVars = infraVariables(options.infra ?? [], images);

  for (const name of Object.keys(root.services)) {
    const raw = root.services[name];
    const at = `services.${name}`;
    if (!isRecord(raw)) {
      errors.push({ path: at, message: 'expected a mapping (image, ports, environment, ...)' });
      continue;
    }
    const uses: VariableUse[] = [];
    const missing: string[] = [];
    const service = interpolateTree(raw, options.env, uses, missing, infraVars) as Record<string, unknown>;
    for (const m of missing) errors.push({ path: at, message: `service "${name}": required variable ${m}; pass it in env` });
    const variables = dedupe(uses);
    const labels = keyValues(service.labels);
    const base = { service: name, variables, warnings: [], notPortable: [] };
    if (isCloudflared(service)) {
      cloudflared = name;
      services.push({
        ...base,
        status: 'skipped',
        reason: 'a cloudflared connector: edgeplane runs the tunnel connector itself; its routes are imported instead',
      });
      continue;
    }
    if (/(^|\/)traefik(:|@|$)/.test(String(service.image ?? ''))) {
      services.push({
        ...base,
        status: 'skipped',
        reason: 'Traefik: its router labels become tunnel routes straight to the Services, so it is not needed',
      });
      continue;
    }
    if (typeof service.image !== 'string' || service.image === '') {
      const reason =
        service.build !== undefined
          ? 'it is built from source ("build:"); push the image to a registry and set "image:"'
          : 'it has no "image:"';
      services.push({ ...base, status: 'skipped', reason });
      continue;
    }
    const id = toLabel(name);
    if (!id) {
      errors.push({ path: at, message: `service name "${name}" cannot be turned into a Kubernetes name` });
      continue;
    }
    const clash = ids.get(id);
    if (clash) {
      errors.push({ path: at, message: `services "${clash}" and "${name}" both become workload "${id}"; rename one` });
      continue;
    }
    ids.set(id, name);
    const reading = readComposeService(name, id, service, { namespace: options.namespace, envFiles: options.envFiles });
    for (const e of reading.errors) errors.push({ path: `${at}.${e.field}`, message: `service "${name}": ${e.message}` });
    services.push({
      ...base,
      status: 'workload',
      workload: reading.workload,
      warnings: reading.warnings,
      notPortable: reading.notPortable,
    });
    traefik.push({ name, labels, ports: reading.workload.ports.map((p) => (typeof p === 'number' ? p : p.port)), id });
  }

  for (const entry of traefik) routesFromLabels(entry, options, proposal);
  if (cloudflared) routesFromCloudflared(cloudflared, ids, options, proposal);
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, proposal };
}
