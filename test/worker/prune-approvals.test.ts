import { env, SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { newSecret } from '../../worker/crypto';
import { clusterWithTunnel } from './fixtures';
import { api, count, expectError } from './helpers';

// The way forward when the agent's prune breaker trips: the Worker side of POST /v1/clusters/{id}/prune-approvals,
// the bundle that carries the approval, and the report that records its use. The agent side, end to end, is
// test/agent/install-e2e.test.ts.

const agent = (path: string, credential: string, init: RequestInit = {}) =>
  SELF.fetch(`https://edgeplane.test${path}`, {
    ...init,
    headers: { authorization: `Bearer ${credential}`, ...(init.headers as Record<string, string> | undefined) },
  });

/** A cluster with a tunnel and a registered agent credential. */
async function registeredCluster(): Promise<{ cluster: string; credential: string }> {
  const { cluster } = await clusterWithTunnel();
  const manifest = await (await api('GET', `/v1/clusters/${cluster}/install.yaml`)).text();
  const secret = parseAllDocuments(manifest)
    .map((d) => d.toJSON() as { kind: string; stringData?: { token?: string } })
    .find((d) => d.kind === 'Secret');
  const credential = `epa.${cluster}.${newSecret('k').slice(2)}`;
  const registered = await SELF.fetch('https://edgeplane.test/agent/v1/register', {
    method: 'POST',
    headers: { authorization: `Bearer ${secret?.stringData?.token ?? ''}`, 'content-type': 'application/json' },
    body: JSON.stringify({ clusterId: cluster, credential, identity: 'uid-1', kubernetesVersion: 'v1', nodeCount: 1, agentVersion: '0' }),
  });
  expect(registered.status).toBe(201);
  return { cluster, credential };
}

interface Bundle {
  revision: number;
  hash: string;
  prune: { maxDeletes: number; windowSeconds: number; allowEmpty: boolean; approval: { revision: number; objects: string[] } | null };
}

const bundleOf = async (credential: string) => (await (await agent('/agent/v1/desired', credential)).json()) as Bundle;

const objects = ['apps/Deployment/edgeplane-tunnels/cloudflared-a', '/Secret/edgeplane-tunnels/cloudflared-a-token'];

/** Posts a report as the agent: a refusal (`refused`), or a pass that pruned under approval `approved`. */
async function report(credential: string, bundle: Bundle, extra: Record<string, unknown>): Promise<void> {
  const posted = await agent('/agent/v1/status', credential, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      revision: bundle.revision,
      hash: bundle.hash,
      applied: true,
      durationMs: 5,
      results: [],
      conflicts: [],
      pruned: [],
      health: { status: 'Current', objects: [], connectors: { desired: 2, ready: 2 }, origins: [] },
      agentVersion: '0.1.0',
      ...extra,
    }),
  });
  expect(posted.status).toBe(204);
}

describe('prune approvals', () => {
  it('approves the pending refusal exactly, audited, carried by the bundle, closed by the report that used it', async () => {
    const { cluster, credential } = await registeredCluster();
    const before = await bundleOf(credential);
    expect(before.prune).toEqual({ maxDeletes: 25, windowSeconds: 600, allowEmpty: false, approval: null });

    // Nothing refused yet: nothing to approve.
    await expectError(
      await api('POST', `/v1/clusters/${cluster}/prune-approvals`, { body: { revision: before.revision } }),
      409,
      'conflict',
    );

    await report(credential, before, { pruneRefused: `revision ${before.revision}: too many`, pruneRefusedObjects: objects });
    const reports = (await (await api('GET', `/v1/clusters/${cluster}/reports?limit=1`)).json()) as { items: Record<string, unknown>[] };
    expect(reports.items[0]).toMatchObject({ revision: before.revision, pruneRefusedObjects: objects, pruneApproval: null });

    // Another revision than the refused one is refused, naming the right one.
    const wrong = await expectError(
      await api('POST', `/v1/clusters/${cluster}/prune-approvals`, { body: { revision: before.revision + 1 } }),
      409,
      'conflict',
    );
    expect(wrong.error.details).toEqual([
      { path: 'body.revision', message: `must be ${before.revision}, the revision of the pending refusal` },
    ]);
    // A viewer cannot approve; a malformed body is a 422 naming the field; neither writes anything.
    const approvalsBefore = await count('prune_approvals');
    await expectError(
      await api('POST', `/v1/clusters/${cluster}/prune-approvals`, { role: 'viewer', body: { revision: before.revision } }),
      403,
      'forbidden',
    );
    const malformed = await expectError(
      await api('POST', `/v1/clusters/${cluster}/prune-approvals`, { body: { revision: 'latest' } }),
      422,
      'validation_failed',
    );
    expect(malformed.error.details?.[0]?.path).toBe('body.revision');
    await expectError(await api('POST', `/v1/clusters/nope/prune-approvals`, { body: { revision: 1 } }), 404, 'not_found');
    expect(await count('prune_approvals')).toBe(approvalsBefore);

    // An editor approves: 201, audited with the actor and the set, and the revision moves so the agent hears of it.
    const approved = await api('POST', `/v1/clusters/${cluster}/prune-approvals`, { role: 'editor', body: { revision: before.revision } });
    expect(approved.status).toBe(201);
    const approval = (await approved.json()) as { approvedBy: string };
    expect(approval).toMatchObject({ revision: before.revision, objects, usedAt: null, usedRevision: null });
    expect(approval.approvedBy).not.toBe('');
    const audited = await env.DB.prepare(
      "SELECT actor, after FROM audit WHERE action = 'approve_prune' AND entity_id = ? ORDER BY id DESC LIMIT 1",
    )
      .bind(cluster)
      .first<{ actor: string; after: string }>();
    expect(audited?.actor).toBe(approval.approvedBy);
    expect(JSON.parse(audited?.after ?? '{}')).toEqual({ revision: before.revision, objects, approvedBy: approval.approvedBy });
    // The same refusal cannot be approved twice while the first approval is unused.
    await expectError(
      await api('POST', `/v1/clusters/${cluster}/prune-approvals`, { body: { revision: before.revision } }),
      409,
      'conflict',
    );

    const carrying = await bundleOf(credential);
    expect(carrying.revision).toBe(before.revision + 1);
    expect(carrying.prune.approval).toEqual({ revision: before.revision, objects });

    // The agent prunes under it: the report records who approved what, the approval is closed and leaves the bundle.
    await report(credential, carrying, { pruned: objects, pruneApproved: before.revision });
    const used = (await (await api('GET', `/v1/clusters/${cluster}/reports?limit=1`)).json()) as { items: Record<string, unknown>[] };
    expect(used.items[0]).toMatchObject({
      revision: carrying.revision,
      pruneRefusedObjects: null,
      pruneApproval: { revision: before.revision, approvedBy: approval.approvedBy, approvedAt: expect.any(String) as string },
    });
    const listed = (await (await api('GET', `/v1/clusters/${cluster}/prune-approvals`, { role: 'viewer' })).json()) as {
      items: { usedRevision: number | null; usedAt: string | null }[];
    };
    expect(listed.items).toEqual([expect.objectContaining({ usedRevision: carrying.revision, usedAt: expect.any(String) as string })]);
    await api('PATCH', `/v1/clusters/${cluster}`, { body: { name: 'renamed' } });
    expect((await bundleOf(credential)).prune.approval).toBeNull();
  });

  it('takes the breaker per cluster from PATCH /v1/clusters/{id}', async () => {
    const { cluster, credential } = await registeredCluster();
    const patched = await api('PATCH', `/v1/clusters/${cluster}`, { body: { prune: { maxDeletes: 40, windowMinutes: 30 } } });
    expect(patched.status).toBe(200);
    expect(((await patched.json()) as { prune: unknown }).prune).toEqual({ maxDeletes: 40, windowMinutes: 30 });
    expect((await bundleOf(credential)).prune).toMatchObject({ maxDeletes: 40, windowSeconds: 1800 });
    const bad = await expectError(
      await api('PATCH', `/v1/clusters/${cluster}`, { body: { prune: { windowMinutes: 0 } } }),
      422,
      'validation_failed',
    );
    expect(bad.error.details?.[0]?.path).toBe('body.prune.windowMinutes');
  });
});
