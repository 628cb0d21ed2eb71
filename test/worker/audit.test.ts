import { describe, expect, it } from 'vitest';
import { api, uid } from './helpers';

describe('audit', () => {
  it('lists who changed what, newest first, with secrets redacted', async () => {
    const id = uid('aud');
    await api('POST', '/v1/clusters', { body: { id, name: 'first' } });
    await api('PATCH', `/v1/clusters/${id}`, { body: { name: 'second' } });
    await api('POST', '/v1/tokens', { body: { name: 'audited', role: 'viewer' } });
    const page = (await (await api('GET', `/v1/audit?entityType=cluster&entityId=${id}`, { role: 'viewer' })).json()) as {
      items: { action: string; actor: string; before: { name: string } | null; after: { name: string } | null }[];
    };
    expect(page.items.map((e) => e.action)).toEqual(['update', 'create']);
    expect(page.items[0]).toMatchObject({ actor: 'token:tok_test_admin', before: { name: 'first' }, after: { name: 'second' } });
    const all = await (await api('GET', '/v1/audit?entityType=api_token&limit=50')).text();
    expect(all).toContain('audited');
    expect(all).not.toMatch(/ep_viewer_/);
  });
});
