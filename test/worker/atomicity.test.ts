import { describe, expect, it } from 'vitest';
import { clusters } from '../../worker/db/schema';
import { commitWrite } from '../../worker/db/write';
import { api, serviceDeps, storeSnapshot, uid } from './helpers';

const deps = () => serviceDeps();

describe('atomic writes', () => {
  it('a write whose last statement violates a constraint leaves no revision bump, audit or outbox row', async () => {
    const id = uid('atom');
    expect((await api('POST', '/v1/clusters', { body: { id, name: 'x' } })).status).toBe(201);
    const before = await storeSnapshot();
    const at = new Date().toISOString();
    const duplicate = { id, name: 'dup', labels: {}, nodes: [], createdAt: at, updatedAt: at };
    await expect(
      commitWrite(deps(), {
        statements: [deps().db.insert(clusters).values(duplicate)],
        audit: { action: 'create', entityType: 'cluster', entityId: id, after: duplicate },
        outbox: [{ account: 'a', kind: 'tunnel', target: 'x' }],
        clusters: [id],
      }),
    ).rejects.toMatchObject({ code: 'conflict' });
    expect(await storeSnapshot()).toEqual(before);
  });

  it('a failed guard rolls back everything and reports its own error', async () => {
    const id = uid('guard');
    await api('POST', '/v1/clusters', { body: { id, name: 'x' } });
    const before = await storeSnapshot();
    const { sql } = await import('drizzle-orm');
    const { AppError } = await import('../../worker/errors');
    await expect(
      commitWrite(deps(), {
        guards: [{ holds: sql`1 = 0`, error: new AppError('precondition_failed', 'guard says no') }],
        statements: [],
        audit: { action: 'noop', entityType: 'cluster', entityId: id },
        outbox: [{ account: 'a', kind: 'tunnel', target: 'x' }],
        clusters: [id],
      }),
    ).rejects.toMatchObject({ code: 'precondition_failed', message: 'guard says no' });
    expect(await storeSnapshot()).toEqual(before);
  });
});
