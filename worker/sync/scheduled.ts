import { openDb } from '../deps';
import { configOf } from '../env';
import { accountWriter } from '../effects/kick-writers';
import { knownAccounts } from './status';

/** The Cron Trigger: each account's writer drains what is due and then checks Cloudflare for drift. */
export async function runScheduledDrift(env: Env): Promise<void> {
  const config = configOf(env);
  // Without a token there is nothing to check; pending rows wait and GET /v1/sync says why once a writer runs.
  if (!config.CLOUDFLARE_API_TOKEN) return;
  const accounts = await knownAccounts(openDb(env.DB), config.CLOUDFLARE_ACCOUNT_ID);
  const results = await Promise.allSettled(
    accounts.map(async (account) => {
      const writer = accountWriter(env, account);
      await writer.drain(account);
      await writer.driftCheck(account);
    }),
  );
  for (const result of results) {
    if (result.status === 'rejected') console.error(JSON.stringify({ event: 'drift_check_failed', error: String(result.reason) }));
  }
}
