import { canonicalJson } from './canonical-json';
import { objectKey } from '../kube/object-key';
import { normalizeTunnelConfig } from './tunnel-config';
import type { ClusterBundle, IngressRule, KubeObject, TunnelConfig } from './types';

/** One rule-level difference between two tunnel configs; rules are identified by hostname and path. */
export interface RuleChange {
  change: 'added' | 'removed' | 'changed';
  key: string;
  hostname: string | null;
  path: string | null;
  before?: IngressRule;
  after?: IngressRule;
  beforeIndex?: number;
  afterIndex?: number;
}

/** The difference between two tunnel configs. */
export interface TunnelConfigDiff {
  /** True when pushing `after` over `before` would change nothing. */
  noop: boolean;
  rules: RuleChange[];
  /** True when only the order of otherwise equal rules differs. */
  reordered: boolean;
  originRequest?: { before: Record<string, unknown> | null; after: Record<string, unknown> | null };
  warpRouting?: { before: boolean; after: boolean };
}

/** An object of a bundle diff: its identity key (`group/kind/namespace/name`, no version) and its apiVersion. */
export interface ObjectRef {
  key: string;
  apiVersion: string;
  kind: string;
  namespace: string | null;
  name: string;
}

/** The difference between two bundles of one cluster. */
export interface BundleDiff {
  /** True when applying `after` over `before` would write nothing. */
  noop: boolean;
  created: ObjectRef[];
  changed: ObjectRef[];
  deleted: ObjectRef[];
  unchanged: number;
  hash: { before: string | null; after: string };
}

/** The identity of a rule: `hostname path`, `(catch-all)` for the last rule. */
export const ruleKey = (rule: IngressRule): string =>
  rule.hostname || rule.path ? `${rule.hostname ?? '*'} ${rule.path ?? ''}`.trim() : '(catch-all)';

/**
 * Rule by rule differences between a tunnel's current config (null when none was pushed yet) and a proposed one. Both
 * are normalised first, so a config as Cloudflare echoes it (empty originRequest objects) compares equal to the compiled one.
 */
export function diffTunnelConfig(beforeInput: TunnelConfig | null, afterInput: TunnelConfig): TunnelConfigDiff {
  const before = beforeInput ? (normalizeTunnelConfig(beforeInput) ?? beforeInput) : null;
  const after = normalizeTunnelConfig(afterInput) ?? afterInput;
  const old = new Map((before?.ingress ?? []).map((rule, index) => [ruleKey(rule), { rule, index }] as const));
  const next = new Map(after.ingress.map((rule, index) => [ruleKey(rule), { rule, index }] as const));
  const rules: RuleChange[] = [];
  const describe = (key: string, rule: IngressRule) => ({ key, hostname: rule.hostname ?? null, path: rule.path ?? null });
  for (const [key, { rule, index }] of next) {
    const was = old.get(key);
    if (!was) rules.push({ change: 'added', ...describe(key, rule), after: rule, afterIndex: index });
    else if (canonicalJson(was.rule) !== canonicalJson(rule)) {
      rules.push({ change: 'changed', ...describe(key, rule), before: was.rule, after: rule, beforeIndex: was.index, afterIndex: index });
    }
  }
  for (const [key, { rule, index }] of old) {
    if (!next.has(key)) rules.push({ change: 'removed', ...describe(key, rule), before: rule, beforeIndex: index });
  }
  const order = (c: TunnelConfig | null) => (c?.ingress ?? []).map(ruleKey).join('\n');
  const reordered = rules.length === 0 && order(before) !== order(after);
  const diff: TunnelConfigDiff = { noop: true, rules, reordered };
  if (canonicalJson(before?.originRequest ?? {}) !== canonicalJson(after.originRequest ?? {})) {
    diff.originRequest = { before: before?.originRequest ?? null, after: after.originRequest ?? null };
  }
  const warpBefore = before?.['warp-routing']?.enabled ?? false;
  const warpAfter = after['warp-routing']?.enabled ?? false;
  if (warpBefore !== warpAfter) diff.warpRouting = { before: warpBefore, after: warpAfter };
  diff.noop = !(rules.length > 0 || reordered || diff.originRequest !== undefined || diff.warpRouting !== undefined);
  return diff;
}

const refOf = (o: KubeObject): ObjectRef => ({
  key: objectKey(o),
  apiVersion: o.apiVersion,
  kind: o.kind,
  namespace: o.metadata.namespace ?? null,
  name: o.metadata.name,
});

/**
 * Objects created, changed and deleted between a cluster's current bundle (null when none) and a proposed one. Objects
 * are matched by group, kind, namespace and name, so one moved to another apiVersion is "changed" (as the agent
 * applies it: same object, no prune), not deleted and created; its ref carries the new apiVersion.
 */
export function diffBundles(before: ClusterBundle | null, after: ClusterBundle): BundleDiff {
  const old = new Map((before?.objects ?? []).map((o) => [objectKey(o), o] as const));
  const created: ObjectRef[] = [];
  const changed: ObjectRef[] = [];
  let unchanged = 0;
  const seen = new Set<string>();
  for (const object of after.objects) {
    const key = objectKey(object);
    seen.add(key);
    const was = old.get(key);
    if (!was) created.push(refOf(object));
    else if (canonicalJson(was) !== canonicalJson(object)) changed.push(refOf(object));
    else unchanged++;
  }
  const deleted = (before?.objects ?? []).filter((o) => !seen.has(objectKey(o))).map(refOf);
  return {
    noop: created.length + changed.length + deleted.length === 0,
    created,
    changed,
    deleted,
    unchanged,
    hash: { before: before?.hash ?? null, after: after.hash },
  };
}
