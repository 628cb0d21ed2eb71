import { DurableObject } from 'cloudflare:workers';
import { constantTimeEqual } from '../crypto';
import { DryRunBox, type DryRunPut, type StoredDryRun } from './dry-runs';

/**
 * How long a copy of the agent's credential hash and revision, read from D1, answers 304s before it is read again: a
 * lost revision notification hides a change for at most this long (plus one agent poll). ADR 0013.
 */
export const AGENT_STATE_TTL_MS = 60_000;
/**
 * How long a credential change (registration, cluster delete) keeps the object from answering while its D1 batch
 * commits; the change's `settle` normally ends it within milliseconds. Must exceed any D1 batch's duration. ADR 0013.
 */
export const CREDENTIAL_FENCE_MS = 30_000;

/** What the 304 of GET /agent/v1/desired needs of the cluster, as read from D1 by a request that went there. */
export interface AgentSnapshot {
  credentialHash: string;
  revision: number;
  /** Last seen (ms, the Worker's clock) as the D1 path left it, connected. */
  seenAt: number;
}

/** The 304 the object may answer alone, or the generation and time a D1 read must quote to prime it afterwards. */
export type AgentCheck = { answer: 'not-modified'; revision: number } | { answer: 'ask-d1'; generation: number; since: number };

interface HeldSnapshot extends AgentSnapshot {
  /** When the D1 read behind it began, at the latest (the object's clock). */
  loadedAt: number;
}

const FENCE_PREFIX = 'credential-fence:';

/**
 * One per cluster: holds the agent's notify WebSocket with the Hibernation API (an idle socket costs nothing and the
 * object sleeps) and sends `{revision}` when the cluster's desired revision changes. Level-based: the message only
 * says "revision N exists"; the agent always fetches the whole bundle.
 */
/**
 * It also answers the agent's conditional GET /agent/v1/desired (the 304) from a copy of the cluster's credential hash
 * and revision that a D1 read primed, so a poll that finds nothing new costs one call here and no D1 query. D1 stays the
 * truth; the copy is only ever used to say "304", never to refuse or to serve a bundle, and is dropped or bypassed
 * whenever it might be wrong (ADR 0013): a credential change fences the object before its D1 batch and settles it after,
 * every revision notification invalidates in-flight primes, and a copy older than AGENT_STATE_TTL_MS is read again.
 */
export class ClusterNotifier extends DurableObject<Env> {
  private agent: HeldSnapshot | null = null;
  /**
   * Changes whenever the copy may no longer match D1 (fence, settle, notification, expiry); a prime quoting an older one
   * is dropped. Starts random, so a prime issued before the object was evicted never matches the new instance's.
   */
  private generation = crypto.getRandomValues(new Uint32Array(1))[0] ?? 0;
  /** Open credential fences: id → until (ms). Kept in storage too, so an eviction mid-change does not forget them. */
  private readonly fences = new Map<string, number>();
  /** The cluster-side pre-flight's dry runs (ADR 0015). */
  private readonly dryRuns: DryRunBox;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.dryRuns = new DryRunBox(ctx.storage.kv);
    // The agent's keep-alive is answered without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'));
    for (const [key, until] of ctx.storage.kv.list<number>({ prefix: FENCE_PREFIX }))
      this.fences.set(key.slice(FENCE_PREFIX.length), until);
  }

  /**
   * The 304 decision for a conditional GET /agent/v1/desired: `not-modified` only while no credential change is in
   * flight, the copy is younger than AGENT_STATE_TTL_MS, the credential hash matches, the agent was seen after
   * `seenAfter` (else the D1 path must record last seen) and the agent holds the copy's revision. Anything else goes to
   * D1. A wrong credential also drops the copy: the D1 path may then mark the cluster `unauthorized`, which the next good
   * request must see to mark it connected again.
   */
  async checkAgent(credentialHash: string, revisions: number[], seenAfter: number): Promise<AgentCheck> {
    const now = Date.now();
    this.expireFences(now);
    const held = this.agent;
    const askD1: AgentCheck = { answer: 'ask-d1', generation: this.generation, since: now };
    if (this.fences.size > 0 || !held) return askD1;
    if (now - held.loadedAt >= AGENT_STATE_TTL_MS) {
      this.forget();
      return { ...askD1, generation: this.generation };
    }
    if (!constantTimeEqual(held.credentialHash, credentialHash)) {
      this.forget();
      return { ...askD1, generation: this.generation };
    }
    if (held.seenAt <= seenAfter || !revisions.includes(held.revision)) return askD1;
    return { answer: 'not-modified', revision: held.revision };
  }

  /**
   * Primes the copy from a D1 read that began after `checkAgent` answered `generation` at `since`; dropped (false) when
   * anything happened in between that the read may have missed, or while a credential change is in flight.
   */
  async primeAgent(generation: number, since: number, snapshot: AgentSnapshot): Promise<boolean> {
    this.expireFences(Date.now());
    if (generation !== this.generation || this.fences.size > 0) return false;
    this.agent = { ...snapshot, loadedAt: since };
    return true;
  }

  /**
   * Called before a D1 batch that replaces or removes the agent credential: until `settleCredential(id)` (or
   * CREDENTIAL_FENCE_MS), no 304 is answered here and no prime is taken, so the old credential cannot be accepted from
   * a copy made before the batch, nor from one made by a read racing it.
   */
  async fenceCredential(): Promise<string> {
    const id = crypto.randomUUID();
    const until = Date.now() + CREDENTIAL_FENCE_MS;
    this.ctx.storage.kv.put(FENCE_PREFIX + id, until);
    this.fences.set(id, until);
    this.forget();
    return id;
  }

  /** After the credential change's batch committed (or failed): ends its fence; the next request primes from D1. */
  async settleCredential(id: string): Promise<void> {
    this.ctx.storage.kv.delete(FENCE_PREFIX + id);
    this.fences.delete(id);
    this.forget();
  }

  private forget(): void {
    this.agent = null;
    this.generation = (this.generation + 1) >>> 0;
  }

  private expireFences(now: number): void {
    for (const [id, until] of this.fences) {
      if (until > now) continue;
      this.ctx.storage.kv.delete(FENCE_PREFIX + id);
      this.fences.delete(id);
      this.forget();
    }
  }

  /** `GET /connect?revision=N` with `Upgrade: websocket`: accepts the agent's socket and tells it the current revision. */
  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname !== '/connect' || request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
      return new Response('expected a WebSocket upgrade on /connect', { status: 426 });
    }
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server);
    const revision = Number(url.searchParams.get('revision'));
    if (Number.isInteger(revision) && revision > 0) server.send(JSON.stringify({ revision }));
    return new Response(null, { status: 101, webSocket: client });
  }

  /**
   * Sends the new desired revision to every connected agent of this cluster; returns how many were told. The copy
   * answering 304s moves to it, and a prime read before it is dropped.
   */
  async notify(revision: number): Promise<number> {
    if (this.agent && revision > this.agent.revision) this.agent.revision = revision;
    this.generation = (this.generation + 1) >>> 0;
    const message = JSON.stringify({ revision });
    let sent = 0;
    for (const socket of this.ctx.getWebSockets()) {
      try {
        socket.send(message);
        sent++;
      } catch {
        // A socket that died without a close frame; the runtime drops it, the agent reconnects and polls meanwhile.
      }
    }
    return sent;
  }

  /**
   * Keeps a dry run for the agent and tells it over the notify socket (`{"dryRun": id}`); not kept when no agent socket
   * is open (the agent could not be asked now) or DRY_RUN_MAX_PENDING are already waiting.
   */
  async putDryRun(run: StoredDryRun, now: number): Promise<DryRunPut> {
    return this.dryRuns.put(run, this.ctx.getWebSockets(), now);
  }

  /** The dry runs waiting for the agent, with their (encrypted) payloads. */
  async pendingDryRuns(now: number): Promise<StoredDryRun[]> {
    return this.dryRuns.pending(now);
  }

  /** The agent's result of one dry run; false when it is unknown, expired or already in. Wakes the plan waiting on it. */
  async completeDryRun(id: string, result: string, now: number): Promise<boolean> {
    return this.dryRuns.complete(id, result, now);
  }

  /** One dry run without its payload, waiting up to `waitMs` for its result; null when unknown (or swept). */
  async readDryRun(id: string, waitMs: number, now: number): Promise<StoredDryRun | null> {
    return this.dryRuns.read(id, waitMs, now);
  }

  override async webSocketMessage(): Promise<void> {
    // Agents only send the auto-answered "ping"; anything else is ignored.
  }

  override async webSocketClose(socket: WebSocket, code: number, reason: string): Promise<void> {
    try {
      socket.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Already closed.
    }
  }
}
