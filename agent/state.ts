import { randomBytes } from 'node:crypto';
import { decodeInventory, encodeInventory, normaliseInventory, type InventoryEntry } from './inventory';
import type { Kube, KObject } from './kube';

/** What survives a restart: the last applied revision and hash, and the inventory of objects edgeplane may own. */
export interface AgentState {
  revision: number;
  hash: string;
  /** Every object edgeplane applied and has not pruned yet, one entry per object whatever its apiVersion. */
  inventory: InventoryEntry[];
  /** The prune breaker's memory: deletions made without an approval (ms) and the last approval used (its revision). */
  prune: PruneMemory;
}

export interface PruneMemory {
  deletions: number[];
  approvalUsed: number;
}

/** Reads the stored prune memory; anything unreadable reads as "deleted nothing, used no approval". */
function decodePruneMemory(text: string | undefined): PruneMemory {
  try {
    const value = JSON.parse(text ?? '{}') as { deletions?: unknown; approvalUsed?: unknown };
    const deletions = Array.isArray(value.deletions) ? value.deletions.filter((d): d is number => Number.isFinite(d)) : [];
    const approvalUsed = typeof value.approvalUsed === 'number' && Number.isSafeInteger(value.approvalUsed) ? value.approvalUsed : 0;
    return { deletions, approvalUsed };
  } catch {
    return { deletions: [], approvalUsed: 0 };
  }
}

const encodePruneMemory = (memory: PruneMemory): string =>
  JSON.stringify({ deletions: memory.deletions, approvalUsed: memory.approvalUsed });

/** The agent's credential as its Secret holds it. */
export interface StoredCredential {
  credential: string;
  /** False from the moment the agent made the credential until the Worker accepted its registration. */
  registered: boolean;
}

/** A new agent credential: `epa.<cluster>.<32 random bytes, base64url>` (AGENT_CREDENTIAL in src/shared/api/agent.ts). */
export const newCredential = (clusterId: string): string => `epa.${clusterId}.${randomBytes(32).toString('base64url')}`;

export const STATE_CONFIGMAP = 'edgeplane-agent-state';
export const CREDENTIAL_SECRET = 'edgeplane-agent-credential';

const EMPTY: AgentState = { revision: 0, hash: '', inventory: [], prune: { deletions: [], approvalUsed: 0 } };

/**
 * Persists the agent's state in its own namespace: a ConfigMap (revision, hash, inventory) and a Secret (the cluster
 * credential). Writes go out only when the content changes, so an idle cluster sees none.
 */
export class StateStore {
  private last: AgentState | undefined;

  constructor(
    private readonly kube: Kube,
    /** The agent's own namespace (its state, credential and the cluster CA ConfigMap live there). */
    readonly namespace: string,
  ) {}

  async load(): Promise<AgentState> {
    const found = await this.kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: this.namespace, name: STATE_CONFIGMAP });
    if (!found.ok) {
      if (found.status === 404) return (this.last = { ...EMPTY, prune: { deletions: [], approvalUsed: 0 } });
      throw new Error(`cannot read ${this.namespace}/${STATE_CONFIGMAP} (${found.status}): ${found.error.message ?? ''}`);
    }
    const data = (found.value.data ?? {}) as Record<string, string>;
    // A damaged inventory must not lead to blind pruning: it reads as empty (prune nothing). One in the first format
    // (keys with the apiVersion) is migrated; either is rewritten by the next save.
    const { entries: inventory, current } = decodeInventory(data.inventory);
    const state = { revision: Number(data.revision ?? 0) || 0, hash: data.hash ?? '', inventory, prune: decodePruneMemory(data.prune) };
    this.last = current ? state : undefined;
    return { ...state, inventory: [...inventory] };
  }

  async save(state: AgentState): Promise<void> {
    const next = { ...state, inventory: normaliseInventory(state.inventory) };
    if (
      this.last &&
      this.last.revision === next.revision &&
      this.last.hash === next.hash &&
      encodeInventory(this.last.inventory) === encodeInventory(next.inventory) &&
      encodePruneMemory(this.last.prune) === encodePruneMemory(next.prune)
    )
      return;
    const object: KObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: STATE_CONFIGMAP, namespace: this.namespace, labels: { 'app.kubernetes.io/name': 'edgeplane-agent' } },
      data: {
        revision: String(next.revision),
        hash: next.hash,
        inventory: encodeInventory(next.inventory),
        prune: encodePruneMemory(next.prune),
      },
    };
    const result = await this.kube.apply(object, true);
    if (!result.ok) throw new Error(`cannot write ${this.namespace}/${STATE_CONFIGMAP} (${result.status}): ${result.error.message ?? ''}`);
    this.last = next;
  }

  /**
   * The stored credential and whether its registration completed. A Secret written before this field existed holds
   * only `credential`, from a completed registration.
   */
  async loadCredential(): Promise<StoredCredential | undefined> {
    const found = await this.kube.get({ apiVersion: 'v1', kind: 'Secret', namespace: this.namespace, name: CREDENTIAL_SECRET });
    if (!found.ok) {
      if (found.status === 404) return undefined;
      throw new Error(`cannot read ${this.namespace}/${CREDENTIAL_SECRET} (${found.status}): ${found.error.message ?? ''}`);
    }
    const data = (found.value.data ?? {}) as Record<string, string>;
    const decode = (value: string | undefined) => (value ? Buffer.from(value, 'base64').toString('utf8') : undefined);
    const credential = decode(data.credential);
    return credential ? { credential, registered: decode(data.registered) !== 'false' } : undefined;
  }

  /**
   * Stores a new, not yet registered credential unless one is stored already, and returns the one stored: the Secret is
   * created (not applied), so of two agents starting at once (a second pod during a rollout) exactly one credential
   * wins and both register that one.
   */
  async claimCredential(candidate: string): Promise<StoredCredential> {
    const created = await this.kube.create(this.credentialSecret({ credential: candidate, registered: false }));
    if (created.ok) return { credential: candidate, registered: false };
    const stored = created.status === 409 ? await this.loadCredential() : undefined;
    if (stored) return stored;
    throw new Error(
      `cannot store the agent credential in ${this.namespace}/${CREDENTIAL_SECRET} (${created.status}): ${created.error.message ?? ''}`,
    );
  }

  /** Marks the stored credential registered (or rewrites it). */
  async saveCredential(stored: StoredCredential): Promise<void> {
    const result = await this.kube.apply(this.credentialSecret(stored), true);
    if (!result.ok)
      throw new Error(
        `cannot store the agent credential in ${this.namespace}/${CREDENTIAL_SECRET} (${result.status}): ${result.error.message ?? ''}`,
      );
  }

  private credentialSecret({ credential, registered }: StoredCredential): KObject {
    return {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: CREDENTIAL_SECRET, namespace: this.namespace, labels: { 'app.kubernetes.io/name': 'edgeplane-agent' } },
      type: 'Opaque',
      data: {
        credential: Buffer.from(credential).toString('base64'),
        registered: Buffer.from(String(registered)).toString('base64'),
      },
    };
  }
}
