import { and, eq } from 'drizzle-orm';
import { canonicalJson, sha256Hex } from '../../src/shared/compiler';
import { splitTunnelEntries, splitTunnelProfiles } from '../db/schema';
import { newId } from '../ids';
import type { SyncContext } from './context';
import { markSuccess, readSync, syncKey } from './sync-state';

// WARP split tunnel: a PUT replaces a profile's whole include (or exclude) list, so edgeplane always GETs the list,
// keeps every entry it does not own exactly as it is, puts its own entries beside them, and PUTs only when the result
// differs. Foreign entries are mirrored into split_tunnel_entries with owner "foreign" (read-only in the API).

export interface SplitItem {
  address?: string;
  host?: string;
  description?: string;
}

type Mode = 'include' | 'exclude';
export type SplitOutcome = 'unchanged' | 'written' | 'drift-reported';

const targetOf = (item: SplitItem): string => item.address ?? item.host ?? '';
const normalise = (items: SplitItem[]) =>
  items
    .map((i) => ({ ...(i.address ? { address: i.address } : { host: i.host ?? '' }), description: i.description ?? '' }))
    .sort((a, b) => targetOf(a).localeCompare(targetOf(b)));

/** The outbox target `<profile>:<mode>` split into its parts. */
export function parseSplitTarget(target: string): { profile: string; mode: Mode } {
  const at = target.lastIndexOf(':');
  const mode = target.slice(at + 1);
  if (at <= 0 || (mode !== 'include' && mode !== 'exclude'))
    throw new Error(`split-tunnel target "${target}" is not <profile>:<include|exclude>`);
  return { profile: target.slice(0, at), mode };
}

async function remoteList(ctx: SyncContext, profile: string, mode: Mode): Promise<SplitItem[]> {
  const policies = ctx.cf.zeroTrust.devices.policies;
  const account = { account_id: ctx.account };
  if (profile === 'default') {
    const page = mode === 'include' ? await policies.default.includes.get(account) : await policies.default.excludes.get(account);
    return page.result;
  }
  const page =
    mode === 'include' ? await policies.custom.includes.get(profile, account) : await policies.custom.excludes.get(profile, account);
  return page.result;
}

async function putList(ctx: SyncContext, profile: string, mode: Mode, items: SplitItem[]): Promise<void> {
  const policies = ctx.cf.zeroTrust.devices.policies;
  // Every item has exactly one of address/host (the union the SDK and the API take; see schema defect 6).
  const body = items.map((i) =>
    i.address ? { address: i.address, description: i.description ?? '' } : { host: i.host ?? '', description: i.description ?? '' },
  );
  const params = { account_id: ctx.account, body };
  if (profile === 'default')
    await (mode === 'include' ? policies.default.includes.update(params) : policies.default.excludes.update(params));
  else await (mode === 'include' ? policies.custom.includes.update(profile, params) : policies.custom.excludes.update(profile, params));
}

/** Mirrors the foreign entries of one list into D1: new ones appear, vanished ones go, descriptions follow. */
async function mirrorForeign(ctx: SyncContext, profile: string, mode: Mode, foreign: SplitItem[]): Promise<void> {
  const scope = and(
    eq(splitTunnelEntries.account, ctx.account),
    eq(splitTunnelEntries.profile, profile),
    eq(splitTunnelEntries.mode, mode),
    eq(splitTunnelEntries.owner, 'foreign'),
  );
  const mirrored = await ctx.db.select().from(splitTunnelEntries).where(scope);
  const at = ctx.now().toISOString();
  const wanted = new Map(foreign.map((f) => [targetOf(f), f]));
  for (const row of mirrored) {
    const item = wanted.get(row.target);
    if (!item) await ctx.db.delete(splitTunnelEntries).where(eq(splitTunnelEntries.id, row.id));
    else if ((item.description ?? '') !== row.description) {
      await ctx.db
        .update(splitTunnelEntries)
        .set({ description: item.description ?? '', version: row.version + 1, updatedAt: at })
        .where(eq(splitTunnelEntries.id, row.id));
    }
    wanted.delete(row.target);
  }
  for (const [target, item] of wanted) {
    await ctx.db
      .insert(splitTunnelEntries)
      .values({
        id: newId('st', ctx.now()),
        account: ctx.account,
        profile,
        mode,
        address: item.address ?? null,
        host: item.address ? null : (item.host ?? null),
        target,
        description: item.description ?? '',
        owner: 'foreign',
        createdAt: at,
        updatedAt: at,
      })
      .onConflictDoNothing();
  }
}

/** Reconciles one profile's include or exclude list. */
export async function reconcileSplitTunnel(ctx: SyncContext, target: string, options: { mode: 'outbox' | 'drift' }): Promise<SplitOutcome> {
  const { profile, mode } = parseSplitTarget(target);
  const key = `${ctx.account}/${target}`;
  const ownedRows = await ctx.db
    .select()
    .from(splitTunnelEntries)
    .where(
      and(
        eq(splitTunnelEntries.account, ctx.account),
        eq(splitTunnelEntries.profile, profile),
        eq(splitTunnelEntries.mode, mode),
        eq(splitTunnelEntries.owner, 'edgeplane'),
      ),
    );
  const owned: SplitItem[] = ownedRows.map((r) =>
    r.address ? { address: r.address, description: r.description } : { host: r.host ?? '', description: r.description },
  );
  const hash = sha256Hex(canonicalJson(normalise(owned)));
  const previous = await readSync(ctx, syncKey('split_tunnel', key));
  if (options.mode === 'outbox' && previous?.pushedHash === hash && !previous.lastError) return 'unchanged';

  const remote = await remoteList(ctx, profile, mode);
  // Ours: what we own now, and what we pushed before (an entry deleted in edgeplane must leave the list, not turn foreign).
  const ours = new Set([...owned.map(targetOf), ...(previous?.owned ?? [])]);
  const foreign = remote.filter((item) => !ours.has(targetOf(item)));
  const merged = [...foreign, ...owned];
  await mirrorForeign(ctx, profile, mode, foreign);
  const at = ctx.now().toISOString();
  if (canonicalJson(normalise(merged)) === canonicalJson(normalise(remote))) {
    await markSuccess(ctx, 'split_tunnel', key, { pushedHash: hash, owned: owned.map(targetOf), drift: null, driftCheckedAt: at });
    return 'unchanged';
  }
  if (options.mode === 'drift') {
    // The profile's own drift policy decides (alert unless set to revert). Either way only edgeplane's entries are
    // at stake: the merged list keeps every foreign entry exactly as Cloudflare has it.
    const remoteTargets = new Set(remote.map(targetOf));
    const missing = owned.filter((o) => !remoteTargets.has(targetOf(o))).map(targetOf);
    const summary =
      missing.length > 0
        ? `edgeplane entries missing from the ${mode} list: ${missing.join(', ')}`
        : `edgeplane entries of the ${mode} list were changed outside edgeplane`;
    if ((await driftPolicyOf(ctx, profile)) !== 'revert') {
      await markSuccess(ctx, 'split_tunnel', key, { drift: { detectedAt: at, summary, reverted: false }, driftCheckedAt: at });
      return 'drift-reported';
    }
    await putList(ctx, profile, mode, merged);
    await markSuccess(ctx, 'split_tunnel', key, {
      pushedHash: hash,
      owned: owned.map(targetOf),
      drift: { detectedAt: at, summary, reverted: true },
      driftCheckedAt: at,
    });
    return 'written';
  }
  await putList(ctx, profile, mode, merged);
  await markSuccess(ctx, 'split_tunnel', key, { pushedHash: hash, owned: owned.map(targetOf), drift: null, driftCheckedAt: at });
  return 'written';
}

/** A profile's split-tunnel drift policy: "alert" unless PUT /v1/split-tunnel-profiles set it to "revert". */
async function driftPolicyOf(ctx: SyncContext, profile: string): Promise<'alert' | 'revert'> {
  const row = await ctx.db.query.splitTunnelProfiles.findFirst({
    where: and(eq(splitTunnelProfiles.account, ctx.account), eq(splitTunnelProfiles.profile, profile)),
  });
  return row?.driftPolicy ?? 'alert';
}
