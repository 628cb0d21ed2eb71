import type { UpstreamCredentials } from '../../src/shared/api';
import { decryptSecret } from '../crypto';
import type { inferenceBackends } from '../db/schema';
import { AppError } from '../errors';

type Row = typeof inferenceBackends.$inferSelect;

/** The request headers a backend's stored credentials turn into. */
export async function upstreamAuthHeaders(
  key: string | undefined,
  row: Pick<Row, 'credentialsCiphertext'>,
): Promise<Record<string, string>> {
  if (!row.credentialsCiphertext) return {};
  if (!key) throw new AppError('unavailable', 'the backend has credentials but EDGEPLANE_ENCRYPTION_KEY is not set');
  const credentials = JSON.parse(await decryptSecret(key, row.credentialsCiphertext)) as UpstreamCredentials;
  switch (credentials.type) {
    case 'access':
      return { 'cf-access-client-id': credentials.clientId, 'cf-access-client-secret': credentials.clientSecret };
    case 'bearer':
      return { authorization: `Bearer ${credentials.token}` };
    case 'headers':
      return Object.fromEntries(Object.entries(credentials.headers).map(([k, v]) => [k.toLowerCase(), v]));
  }
}
