import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { api } from './helpers';
import {
  addRoute,
  cloudflareTunnelId,
  drain,
  drainAll,
  expectNoViolations,
  fake,
  makeRetriesDue,
  pendingRows,
  setup,
  syncStatus,
} from './sync-helpers';

// DNS writes of a drain go to Cloudflare as one batch per zone (POST /zones/{zone_id}/dns_records/batch), applied by
// Cloudflare as one transaction; the fake applies it the same way and checks every element against the single-record
// schemas. These tests hold the batch to the same ownership rules as single calls.

const BATCH = 'dns-records-for-a-zone-batch-dns-records';
const SINGLE_DNS_WRITES = [
  'dns-records-for-a-zone-create-dns-record',
  'dns-records-for-a-zone-patch-dns-record',
  'dns-records-for-a-zone-delete-dns-record',
];

async function dnsWrites(account: string): Promise<{ batches: number; singles: number; refused: number }> {
  const calls = await fake.calls(account);
  return {
    batches: calls.filter((c) => c.operationId === BATCH && c.status === 200).length,
    refused: calls.filter((c) => c.operationId === BATCH && c.status !== 200).length,
    singles: calls.filter((c) => SINGLE_DNS_WRITES.includes(c.operationId)).length,
  };
}

async function owned(tunnel: string): Promise<string[]> {
  const rows = await env.DB.prepare('SELECT hostname FROM cf_dns_records WHERE tunnel_id = ? ORDER BY hostname').bind(tunnel).all();
  return rows.results.map((r) => String(r.hostname));
}

describe('Cloudflare sync: DNS in batches', () => {
  it('creates, renames and deletes many CNAMEs with one batch per drain, and records ownership of each', async () => {
    const { account, tunnel, zone } = await setup();
    const routes = [];
    for (let i = 0; i < 6; i++) routes.push(await addRoute(tunnel, `h${i}.${zone}`));
    const [report] = await drainAll(account);
    expect(report?.errors).toEqual([]);
    expect(await dnsWrites(account)).toEqual({ batches: 1, singles: 0, refused: 0 });
    const cfId = await cloudflareTunnelId(tunnel);
    const records = (await fake.state(account)).records;
    expect(records.map((r) => r.name).sort()).toEqual(routes.map((_, i) => `h${i}.${zone}`).sort());
    for (const record of records) {
      expect(record).toMatchObject({ type: 'CNAME', content: `${cfId}.cfargotunnel.com`, proxied: true, comment: 'managed by edgeplane' });
    }
    const ids = await env.DB.prepare('SELECT hostname, record_id AS id FROM cf_dns_records WHERE tunnel_id = ?').bind(tunnel).all();
    expect(Object.fromEntries(ids.results.map((r) => [r.hostname, r.id]))).toEqual(Object.fromEntries(records.map((r) => [r.name, r.id])));

    // Two renames and a delete in one drain: one batch of two deletes, one delete and two posts.
    const [r0, r1, r2] = routes;
    for (const [route, hostname] of [
      [r0, `n0.${zone}`],
      [r1, `n1.${zone}`],
    ] as const) {
      const renamed = await api('PATCH', `/v1/routes/${route?.id ?? ''}`, {
        body: { hostname },
        headers: { 'if-match': route?.etag ?? '' },
      });
      expect(renamed.status).toBe(200);
    }
    expect((await api('DELETE', `/v1/routes/${r2?.id ?? ''}`, { headers: { 'if-match': r2?.etag ?? '' } })).status).toBe(204);
    const [second] = await drainAll(account);
    expect(second?.errors).toEqual([]);
    expect(await dnsWrites(account)).toEqual({ batches: 2, singles: 0, refused: 0 });
    const names = (await fake.state(account)).records.map((r) => r.name).sort();
    expect(names).toEqual([`h3.${zone}`, `h4.${zone}`, `h5.${zone}`, `n0.${zone}`, `n1.${zone}`]);
    expect(await owned(tunnel)).toEqual(names);
    expect(await pendingRows(account)).toEqual([]);
    await expectNoViolations(account);
  });

  it('a batch Cloudflare fails (5xx) applies nothing: every hostname keeps its row and error, and converges on retry', async () => {
    const { account, tunnel, zone } = await setup();
    for (let i = 0; i < 4; i++) await addRoute(tunnel, `f${i}.${zone}`);
    await fake.fault({ account, method: 'POST', path: '/dns_records/batch$', status: 503, times: 1 });
    const first = await drain(account);
    expect((await fake.state(account)).records).toEqual([]);
    expect(
      first.errors
        .filter((e) => e.target.startsWith('dns:'))
        .map((e) => e.target)
        .sort(),
    ).toEqual([0, 1, 2, 3].map((i) => `dns:f${i}.${zone}`));
    for (const error of first.errors) expect(error.error).toMatch(/503/);
    const pending = await pendingRows(account);
    expect(pending.map((r) => `${r.kind}:${r.target}`).sort()).toEqual([0, 1, 2, 3].map((i) => `dns:f${i}.${zone}`));
    for (const row of pending) expect(row).toMatchObject({ attempts: 1, last_error: expect.stringMatching(/503/) });
    expect(await owned(tunnel)).toEqual([]);
    // Not a refusal: the next drain sends a batch again.
    await makeRetriesDue(account);
    const reports = await drainAll(account);
    expect(reports.flatMap((r) => r.errors)).toEqual([]);
    expect(await dnsWrites(account)).toEqual({ batches: 1, singles: 0, refused: 1 });
    expect((await fake.state(account)).records).toHaveLength(4);
    expect(await owned(tunnel)).toHaveLength(4);
    expect(await pendingRows(account)).toEqual([]);
    await expectNoViolations(account);
  });

  it('a batch refused for one element applies nothing; single calls then settle every other hostname and report that one', async () => {
    const { account, tunnel, zone } = await setup();
    const zoneId = (await fake.state(account)).zones[0]?.id ?? '';
    // A TXT record is no conflict for the planner (only CNAME/A/AAAA are), but Cloudflare refuses a CNAME beside it.
    const txt = await fake.api<{ id: string }>('POST', `/zones/${zoneId}/dns_records`, {
      type: 'TXT',
      name: `t1.${zone}`,
      content: '"verification=1"',
      ttl: 300,
    });
    const before = (await fake.state(account)).records;
    for (let i = 0; i < 3; i++) await addRoute(tunnel, `t${i}.${zone}`);
    const earlier = (await fake.calls(account)).length;
    const report = await drain(account);
    const calls = (await fake.calls(account)).slice(earlier);
    const batch = calls.filter((c) => c.operationId === BATCH);
    expect(batch).toEqual([expect.objectContaining({ status: 400 })]);
    // After the refused batch, each write went alone: two created, one refused by Cloudflare.
    expect(
      calls
        .filter((c) => c.operationId === 'dns-records-for-a-zone-create-dns-record')
        .map((c) => c.status)
        .sort(),
    ).toEqual([200, 200, 400]);
    expect(report.errors).toEqual([{ target: `dns:t1.${zone}`, error: expect.stringMatching(/81053|already exists/) }]);
    const after = (await fake.state(account)).records;
    expect(after.find((r) => r.id === txt.id)).toEqual(before.find((r) => r.id === txt.id)); // the foreign record, untouched
    expect(
      after
        .filter((r) => r.type === 'CNAME')
        .map((r) => r.name)
        .sort(),
    ).toEqual([`t0.${zone}`, `t2.${zone}`]);
    expect(await owned(tunnel)).toEqual([`t0.${zone}`, `t2.${zone}`]);
    expect((await pendingRows(account)).map((r) => `${r.kind}:${r.target}`)).toEqual([`dns:t1.${zone}`]);
    const status = (await syncStatus()).targets.find((t) => t.kind === 'dns' && t.target === `t1.${zone}`);
    expect(status?.lastError).toMatch(/already exists/);
    // A batch that failed on an element is not a refusal of the endpoint: the next bulk change is a batch again.
    for (let i = 3; i < 5; i++) await addRoute(tunnel, `t${i}.${zone}`);
    await drain(account);
    expect((await dnsWrites(account)).batches).toBe(1);
    await expectNoViolations(account);
  });

  it('falls back to single calls on an account where the batch endpoint is refused, and remembers it', async () => {
    const { account, tunnel, zone } = await setup();
    await fake.batch(account, { refuse: { status: 405, code: 10405 } });
    for (let i = 0; i < 3; i++) await addRoute(tunnel, `s${i}.${zone}`);
    const [first] = await drainAll(account);
    expect(first?.errors).toEqual([]);
    expect(await dnsWrites(account)).toEqual({ batches: 0, singles: 3, refused: 1 });
    expect((await fake.state(account)).records.map((r) => r.name).sort()).toEqual([0, 1, 2].map((i) => `s${i}.${zone}`));
    expect(await owned(tunnel)).toHaveLength(3);

    // Remembered: the next bulk change does not ask for a batch again.
    for (let i = 3; i < 6; i++) await addRoute(tunnel, `s${i}.${zone}`);
    const [second] = await drainAll(account);
    expect(second?.errors).toEqual([]);
    expect(await dnsWrites(account)).toEqual({ batches: 0, singles: 6, refused: 1 });
    expect(await owned(tunnel)).toHaveLength(6);
    expect(await pendingRows(account)).toEqual([]);
    await expectNoViolations(account);
  });

  it('keeps ownership exact in a batch: foreign records on the zone stay as they are, a collision is reported', async () => {
    const { account, tunnel, zone } = await setup();
    const zoneId = (await fake.state(account)).zones[0]?.id ?? '';
    const foreignCname = await fake.api<{ id: string }>('POST', `/zones/${zoneId}/dns_records`, {
      type: 'CNAME',
      name: `blog.${zone}`,
      content: 'ghs.example.net',
      proxied: false,
      ttl: 1,
    });
    // A foreign record with edgeplane's own comment is still foreign: ownership is cf_dns_records, not the comment.
    await fake.api('POST', `/zones/${zoneId}/dns_records`, {
      type: 'CNAME',
      name: `lookalike.${zone}`,
      content: 'elsewhere.example.net',
      proxied: true,
      ttl: 1,
      comment: 'managed by edgeplane',
    });
    await fake.api('POST', `/zones/${zoneId}/dns_records`, {
      type: 'A',
      name: `nas.${zone}`,
      content: '192.0.2.10',
      proxied: false,
      ttl: 300,
    });
    const foreign = (await fake.state(account)).records;

    const routes = [];
    for (const name of ['a', 'b', 'c', 'blog', 'lookalike']) routes.push(await addRoute(tunnel, `${name}.${zone}`));
    await drainAll(account);
    expect((await dnsWrites(account)).batches).toBe(1);
    const targets = (await syncStatus()).targets;
    expect(targets.find((t) => t.kind === 'dns' && t.target === `blog.${zone}`)?.conflict).toContain(foreignCname.id);
    expect(targets.find((t) => t.kind === 'dns' && t.target === `lookalike.${zone}`)?.conflict).toMatch(/not created by edgeplane/);
    expect(await owned(tunnel)).toEqual([`a.${zone}`, `b.${zone}`, `c.${zone}`]);

    // Deleting every route deletes only edgeplane's records, in one batch.
    for (const route of routes)
      expect((await api('DELETE', `/v1/routes/${route.id}`, { headers: { 'if-match': route.etag } })).status).toBe(204);
    await drainAll(account);
    expect((await dnsWrites(account)).batches).toBe(2);
    expect((await fake.state(account)).records).toEqual(foreign);
    expect(await owned(tunnel)).toEqual([]);
    await expectNoViolations(account);
  });

  it('splits the writes of a zone into batches of at most 200 records', async () => {
    const { account, tunnel, zone } = await setup();
    for (let i = 0; i < 201; i++) await addRoute(tunnel, `m${i}.${zone}`);
    const [report] = await drainAll(account);
    expect(report?.errors).toEqual([]);
    expect(await dnsWrites(account)).toEqual({ batches: 2, singles: 0, refused: 0 });
    expect((await fake.state(account)).records).toHaveLength(201);
    expect(await owned(tunnel)).toHaveLength(201);
    await expectNoViolations(account);
  }, 60_000);

  it('the fake applies a batch all or nothing, checks each element against the single-record schemas, and caps its size', async () => {
    const { account, zone } = await setup();
    const zoneId = (await fake.state(account)).zones[0]?.id ?? '';
    const post = async (body: unknown) => {
      const response = await fetch(`${env.CLOUDFLARE_API_BASE_URL}/zones/${zoneId}/dns_records/batch`, {
        method: 'POST',
        headers: { authorization: `Bearer ${env.CLOUDFLARE_API_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return {
        status: response.status,
        body: (await response.json()) as { success: boolean; errors: { code: number; message: string }[] },
      };
    };
    const cname = (name: string) => ({ type: 'CNAME', name, content: 'x.example.net', proxied: true, ttl: 1 });
    // The second post collides with the first: nothing of the batch is applied.
    const collide = await post({ posts: [cname(`one.${zone}`), cname(`two.${zone}`), cname(`one.${zone}`)] });
    expect(collide.status).toBe(400);
    expect(collide.body.errors[0]?.message).toMatch(/^posts\[2\]: /);
    expect((await fake.state(account)).records).toEqual([]);
    // An element the single-record schema refuses (a CNAME without content) is a contract violation.
    const bad = await post({ posts: [{ type: 'CNAME', name: `x.${zone}`, ttl: 1 }] });
    expect(bad.status).toBe(400);
    expect(((await fake.violations(account)) as { problems: string[] }[]).flatMap((v) => v.problems).join('\n')).toMatch(/body\/posts\/0/);
    await fake.batch(account, { limit: 2 });
    const big = await post({ posts: [cname(`a.${zone}`), cname(`b.${zone}`), cname(`c.${zone}`)] });
    expect(big.status).toBe(400);
    expect((await fake.state(account)).records).toEqual([]);
    // Deletes run before posts: a name can be freed and taken in one batch.
    const made = await post({ posts: [cname(`swap.${zone}`)] });
    expect(made.status).toBe(200);
    const [record] = (await fake.state(account)).records;
    const swapped = await post({ deletes: [{ id: record?.id ?? '' }], posts: [{ ...cname(`swap.${zone}`), content: 'y.example.net' }] });
    expect(swapped.status).toBe(200);
    expect((await fake.state(account)).records).toEqual([expect.objectContaining({ name: `swap.${zone}`, content: 'y.example.net' })]);
  });
});
