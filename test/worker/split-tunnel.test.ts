import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { api, expectError, storeSnapshot } from './helpers';
import { ACCOUNT } from './fixtures';

describe('split tunnel', () => {
  it('adds an include entry, refuses duplicates and long descriptions, and never edits foreign entries', async () => {
    const body = { account: ACCOUNT, profile: 'default', mode: 'include', address: '10.242.0.0/16', description: 'k3s pods' };
    const created = await api('POST', '/v1/split-tunnel', { body });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ owner: 'edgeplane', address: '10.242.0.0/16', host: null });
    const before = await storeSnapshot();
    await expectError(await api('POST', '/v1/split-tunnel', { body }), 409, 'conflict');
    const long = await expectError(
      await api('POST', '/v1/split-tunnel', { body: { ...body, address: '10.243.0.0/16', description: 'x'.repeat(101) } }),
      422,
      'validation_failed',
    );
    expect(long.error.details?.[0]).toEqual({
      path: 'body.description',
      message: 'Cloudflare limits a split-tunnel description to 100 characters',
    });
    const both = await expectError(
      await api('POST', '/v1/split-tunnel', { body: { ...body, host: 'a.example.com' } }),
      422,
      'validation_failed',
    );
    expect(both.error.message).toContain('exactly one');
    expect(await storeSnapshot()).toEqual(before);

    const at = new Date().toISOString();
    await env.DB.prepare(
      `INSERT INTO split_tunnel_entries (id, account, profile, mode, address, target, description, owner, version, created_at, updated_at)
       VALUES ('st_foreign_1', ?, 'default', 'include', '192.168.2.0/24', '192.168.2.0/24', 'GPU LAN (by hand)', 'foreign', 1, ?, ?)`,
    )
      .bind(ACCOUNT, at, at)
      .run();
    await expectError(await api('DELETE', '/v1/split-tunnel/st_foreign_1'), 409, 'conflict');
    await expectError(await api('PATCH', '/v1/split-tunnel/st_foreign_1', { body: { description: 'mine now' } }), 409, 'conflict');
    expect(await (await api('GET', '/v1/split-tunnel/st_foreign_1')).json()).toMatchObject({
      owner: 'foreign',
      description: 'GPU LAN (by hand)',
    });
  });
});
