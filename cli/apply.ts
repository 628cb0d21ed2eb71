import { ApiError, type Client } from './client';
import type { Step } from './diff';
import { resolveSecrets } from './secrets';

/** What an apply did: the changes that were made, the one that failed (if any) and those never sent. */
export interface ApplyReport {
  applied: { label: string; op: Step['op']; id?: string }[];
  failed: {
    label: string;
    op: Step['op'];
    status: number;
    code: string;
    message: string;
    details: { path: string; message: string }[];
  } | null;
  notApplied: { label: string; op: Step['op'] }[];
}

/**
 * Sends the changes one by one, in the plan's (dependency) order, each update and delete with the If-Match of the
 * version the plan read: a resource changed since is refused (412) rather than overwritten. The first failure stops
 * the run; nothing after it is sent.
 */
export async function applySteps(
  client: Client,
  steps: Step[],
  progress: (line: string) => void,
  file = 'state file',
): Promise<ApplyReport> {
  // Every secret is read before the first request, so a missing one stops the run before anything changes.
  const bodies = resolveSecrets(
    steps.map((s) => s.request.body),
    file,
  );
  const report: ApplyReport = { applied: [], failed: null, notApplied: [] };
  for (const [index, step] of steps.entries()) {
    try {
      const { body } = await client.request<{ id?: string } | string>(step.request.method, step.request.path, {
        body: bodies[index],
        ...(step.request.ifMatch ? { ifMatch: step.request.ifMatch } : {}),
      });
      const id = typeof body === 'object' && body?.id ? body.id : undefined;
      report.applied.push({ label: step.label, op: step.op, ...(id ? { id } : {}) });
      progress(`  ✓ ${step.op} ${step.label}`);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      report.failed = {
        label: step.label,
        op: step.op,
        status: error.status,
        code: error.code,
        message: error.message,
        details: error.details,
      };
      progress(`  ✗ ${step.op} ${step.label}: ${error.message}`);
      report.notApplied = steps.slice(index + 1).map((s) => ({ label: s.label, op: s.op }));
      break;
    }
  }
  return report;
}

/** The human summary of a stopped or finished apply. */
export function renderApply(report: ApplyReport): string {
  const lines: string[] = [];
  if (!report.failed) {
    lines.push(`Apply complete: ${report.applied.length} change(s) applied.`);
    return `${lines.join('\n')}\n`;
  }
  const f = report.failed;
  lines.push(`Apply stopped: ${f.op} ${f.label} failed (${f.status} ${f.code}): ${f.message}`);
  for (const d of f.details) lines.push(`    ${d.path}: ${d.message}`);
  lines.push(`Applied (${report.applied.length}):`);
  for (const a of report.applied) lines.push(`    ${a.op} ${a.label}`);
  lines.push(`Not applied (${report.notApplied.length + 1}):`);
  lines.push(`    ${f.op} ${f.label} (failed)`);
  for (const n of report.notApplied) lines.push(`    ${n.op} ${n.label}`);
  return `${lines.join('\n')}\n`;
}
