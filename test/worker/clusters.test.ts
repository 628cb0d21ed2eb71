import { describe, expect, it } from 'vitest';
import { api, count, expectError, storeSnapshot, uid } from './helpers';

describe('clusters', () => {
  it('creates, reads, updates with If-Match and deletes a cluster', async () => {
    const id = uid('c');
    const created = await api('POST', '/v1/clusters', { body: { id, name: 'Oceanid' } });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { id: string; etag: string; desiredRevision: number; connection: string };
    expect(body).toMatchObject({ id, desiredRevision: 1, connection: 'never' });
    expect(created.headers.get('etag')).toBe(body.etag);

    const updated = await api('PATCH', `/v1/clusters/${id}`, { body: { name: 'Oceanid 2' }, headers: { 'if-match': body.etag } });
    expect(updated.status).toBe(200);
    const after = (await updated.json()) as { name: string; etag: string; desiredRevision: number };
    expect(after.name).toBe('Oceanid 2');
    expect(after.etag).not.toBe(body.etag);
    expect(after.desiredRevision).toBe(2);

    const stale = await api('PATCH', `/v1/clusters/${id}`, { body: { name: 'x' }, headers: { 'if-match': body.etag } });
    await expectError(stale, 412, 'precondition_failed');

    expect((await api('DELETE', `/v1/clusters/${id}`, { headers: { 'if-match': after.etag } })).status).toBe(204);
    await expectError(await api('GET', `/v1/clusters/${id}`), 404, 'not_found');
  });

  it('rejects a bad id with the field named and changes nothing', async () => {
    const before = await storeSnapshot();
    const response = await api('POST', '/v1/clusters', { body: { id: 'Oceanid_1', name: 'x' } });
    const error = await expectError(response, 422, 'validation_failed');
    expect(error.error.details?.[0]?.path).toBe('body.id');
    expect(error.error.details?.[0]?.message).toContain('"oceanid-1"');
    expect(await storeSnapshot()).toEqual(before);
  });

  it('refuses a duplicate id with 409', async () => {
    const id = uid('dup');
    expect((await api('POST', '/v1/clusters', { body: { id, name: 'a' } })).status).toBe(201);
    const audits = await count('audit');
    await expectError(await api('POST', '/v1/clusters', { body: { id, name: 'b' } }), 409, 'conflict');
    expect(await count('audit')).toBe(audits);
  });

  it('answers 400 for malformed JSON and 401/403 for bad credentials', async () => {
    await expectError(await api('POST', '/v1/clusters', { body: '{"id": ' }), 400, 'bad_request');
    await expectError(await api('GET', '/v1/clusters', { role: null }), 401, 'unauthorized');
    await expectError(await api('GET', '/v1/clusters', { token: 'not-a-token' }), 401, 'unauthorized');
    await expectError(await api('POST', '/v1/clusters', { role: 'viewer', body: { id: uid('v'), name: 'v' } }), 403, 'forbidden');
    await expectError(await api('GET', '/v1/clusters', { role: 'inference' }), 403, 'forbidden');
    expect((await api('GET', '/v1/clusters', { role: 'viewer' })).status).toBe(200);
  });

  it('paginates with a cursor', async () => {
    for (let i = 0; i < 5; i++) await api('POST', '/v1/clusters', { body: { id: uid('pg'), name: `p${i}` } });
    const seen: string[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const response = await api('GET', `/v1/clusters?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      const pageBody = (await response.json()) as { items: { id: string }[]; nextCursor: string | null };
      expect(pageBody.items.length).toBeLessThanOrEqual(2);
      seen.push(...pageBody.items.map((c) => c.id));
      cursor = pageBody.nextCursor;
    }
    expect(seen).toEqual([...seen].sort());
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(await count('clusters'));
    await expectError(await api('GET', '/v1/clusters?cursor=garbage!'), 400, 'bad_request');
  });
});
