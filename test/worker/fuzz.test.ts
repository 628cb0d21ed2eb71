import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { api } from './helpers';
import { clusterWithTunnel, labelStudio } from './fixtures';

// Random mutations of valid bodies must always get a 4xx envelope, never a 500.
const junk = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.constant(null),
  fc.boolean(),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
);

describe('bad input never reaches a 500', () => {
  it('route bodies with a field replaced or added', async () => {
    const { tunnel } = await clusterWithTunnel();
    const valid = { tunnel, hostname: 'fuzz.example.com', path: '/api', origin: labelStudio };
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('tunnel', 'hostname', 'path', 'origin', 'dns', 'originRequest', 'extra'),
        junk,
        async (field, value) => {
          const response = await api('POST', '/v1/routes', { body: { ...valid, [field]: value } });
          expect(response.status).toBeLessThan(500);
          if (response.status >= 400) {
            const body = (await response.json()) as { error: { code: string; requestId: string } };
            expect(body.error.requestId).toBeTruthy();
          } else {
            const created = (await response.json()) as { id: string };
            await api('DELETE', `/v1/routes/${created.id}`);
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
