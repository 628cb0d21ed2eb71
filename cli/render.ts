import { styleText } from 'node:util';
import type { ClusterDryRun } from '../src/shared/api/cluster-dry-run';
import type { PlanReport } from '../src/shared/api/plan';
import type { Diff, Step } from './diff';
import { describeSecret, type SecretMarker } from './secrets';

/** Colours only on a terminal, and never when NO_COLOR is set. */
const colour = process.stdout.isTTY === true && !process.env.NO_COLOR;
const paint = (format: Parameters<typeof styleText>[0], text: string) => (colour ? styleText(format, text) : text);

const SIGN = { create: '+', update: '~', delete: '-' } as const;
const TINT = { create: 'green', update: 'yellow', delete: 'red' } as const;
/** A value as JSON, each secret shown as where it comes from (its value is never in a plan). */
const show = (value: unknown) =>
  JSON.stringify(value ?? null, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && '$secret' in v && 'at' in v ? describeSecret(v as SecretMarker) : v,
  );

/** The cluster pre-flight of one cluster: what its API server said of each object that is not unchanged. */
function renderDryRun(run: ClusterDryRun): string[] {
  const head = `  cluster ${run.cluster} pre-flight (server-side dry run): ${run.status.replace('_', ' ')}`;
  if (run.status !== 'completed') {
    const detail = [run.message, run.url ? `result later at ${run.url}` : undefined].filter(Boolean).join('; ');
    return [paint(run.status === 'pending' ? 'dim' : 'red', detail ? `${head}: ${detail}` : head)];
  }
  const lines = [head];
  if (run.summary) {
    const parts = Object.entries(run.summary)
      .filter(([, n]) => n > 0)
      .map(([outcome, n]) => `${n} ${outcome}`);
    lines[0] = `${head} — ${parts.join(', ') || 'no objects'}`;
  }
  for (const o of run.objects.filter((o) => o.outcome !== 'unchanged')) {
    const bad = o.outcome === 'conflict' || o.outcome === 'invalid' || o.outcome === 'error';
    let detail = '';
    if (o.outcome === 'changed' && o.fields?.length) detail = `: ${o.fields.join(', ')}`;
    else if (o.outcome === 'conflict' && o.conflicts?.length)
      detail = `: ${o.conflicts.map((x) => `${x.field} owned by ${x.manager}`).join(', ')}`;
    else if (o.message) detail = `: ${o.message}`;
    lines.push(paint(bad ? 'red' : 'dim', `    ${o.outcome} ${o.key}${detail}`));
  }
  return lines;
}

/** A readable diff: one line per change (fields under updates) with the server's verdict on refused ones. */
export function renderPlan(diff: Diff, report: PlanReport | null): string {
  const lines: string[] = [];
  for (const [index, step] of diff.steps.entries()) {
    lines.push(paint(TINT[step.op], `${SIGN[step.op]} ${step.op} ${step.label}`));
    for (const f of step.fields ?? []) lines.push(`    ${f.field}: ${show(f.before)} → ${show(f.after)}`);
    const verdict = report?.results[index];
    if (verdict?.error) lines.push(paint('red', `    refused (${verdict.status} ${verdict.error.code}): ${verdict.error.message}`));
  }
  if (report) {
    for (const t of report.tunnels.filter((t) => t.status !== 'unchanged')) {
      lines.push(`  tunnel ${t.id} config: ${t.status}, ${t.diff.rules.length} ingress rule change(s)`);
    }
    for (const c of report.clusters.filter((c) => !c.diff.noop)) {
      lines.push(
        `  cluster ${c.id} objects: ${c.diff.created.length} created, ${c.diff.changed.length} changed, ${c.diff.deleted.length} deleted`,
      );
    }
    for (const c of report.clusters) if (c.dryRun) lines.push(...renderDryRun(c.dryRun));
  }
  for (const u of diff.unnamed) lines.push(paint('dim', `  not in the file, kept (--prune would delete): ${u}`));
  const counts = (op: Step['op']) => diff.steps.filter((s) => s.op === op).length;
  lines.push(
    diff.steps.length === 0
      ? 'No changes: the Worker matches the file.'
      : `Plan: ${counts('create')} to create, ${counts('update')} to update, ${counts('delete')} to delete.`,
  );
  return `${lines.join('\n')}\n`;
}
