/** Wakes the writer of each account after a write committed outbox rows; a lost kick only waits for the next one or the cron. */
export async function kickWriters(env: Env, accounts: string[]): Promise<void> {
  const unique = [...new Set(accounts.filter((a) => a.length > 0))];
  const results = await Promise.allSettled(
    unique.map((account) => env.ACCOUNT_WRITER.get(env.ACCOUNT_WRITER.idFromName(account)).kick(account)),
  );
  for (const result of results) {
    if (result.status === 'rejected') console.error(JSON.stringify({ event: 'sync_kick_failed', error: String(result.reason) }));
  }
}

/** The account writer of an account. */
export const accountWriter = (env: Env, account: string) => env.ACCOUNT_WRITER.get(env.ACCOUNT_WRITER.idFromName(account));
