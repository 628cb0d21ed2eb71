import { randomUUID } from 'node:crypto';
import {
  deleteAt,
  equal,
  fieldPaths,
  getAt,
  isObject,
  overlaps,
  printPath,
  setAt,
  toFieldsV1,
  type FieldPath,
  type Json,
  type JsonObject,
} from './fields';
import { groupVersion, storageType, type ResourceType } from './resources';
import { admissionDenied, conflict, invalid, notFound, type StatusBody } from './status';

/** One entry of metadata.managedFields, with the decoded field set kept beside it. */
interface Manager {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  paths: FieldPath[];
}

interface Stored {
  /** The storage version's type: an object written through another served version is kept (and compared) in it. */
  type: ResourceType;
  object: JsonObject;
  managers: Manager[];
}

export type Outcome = { ok: true; status: number; object: JsonObject } | { ok: false; status: number; body: StatusBody };

/**
 * A ValidatingAdmissionPolicy as a test installs it: `deny` sees the object as it would be stored (after the merge and
 * defaults) and returns the failed validation's message, or undefined to admit it. Runs on every client write, dry runs
 * included (admission is part of what dryRun=All checks), never on controllers' status writes.
 */
export interface AdmissionPolicy {
  name: string;
  kinds: string[];
  deny: (object: JsonObject) => string | undefined;
}

/** One key per object whatever version it is read or written through: group and resource, not version. */
const keyOf = (type: ResourceType, namespace: string | undefined, name: string) =>
  `${type.group}/${type.plural}/${namespace ?? ''}/${name}`;

/**
 * The object store behind the fake: server-side apply with per-manager ownership, versions and generations. A resource
 * served in several versions is one stored object; a read renders it in the version asked for, and a write records
 * the writer's version in its managedFields entry, as the real server does.
 */
export class Store {
  private readonly objects = new Map<string, Stored>();
  private revision = 1000;
  /** Admission policies in force (test/agent tests install them like an operator would). */
  readonly admission: AdmissionPolicy[] = [];
  /** Called after every change, e.g. by the Deployment controller. */
  onChange: (type: ResourceType, object: JsonObject) => void = () => undefined;

  get resourceVersion(): string {
    return String(this.revision);
  }

  get(type: ResourceType, namespace: string | undefined, name: string): JsonObject | undefined {
    const stored = this.objects.get(keyOf(type, namespace, name));
    return stored ? this.render(stored, type) : undefined;
  }

  list(type: ResourceType, namespace: string | undefined, selector: (labels: Record<string, string>) => boolean): JsonObject[] {
    const items: JsonObject[] = [];
    for (const stored of this.objects.values()) {
      if (stored.type !== storageType(type)) continue;
      const meta = stored.object.metadata as JsonObject;
      if (namespace !== undefined && meta.namespace !== namespace) continue;
      if (!selector((meta.labels ?? {}) as Record<string, string>)) continue;
      items.push(this.render(stored, type));
    }
    return items.sort((a, b) => String((a.metadata as JsonObject).name).localeCompare(String((b.metadata as JsonObject).name)));
  }

  all(): { type: ResourceType; object: JsonObject }[] {
    return [...this.objects.values()].map((s) => ({ type: s.type, object: this.render(s) }));
  }

  namespaceExists(name: string): boolean {
    for (const stored of this.objects.values()) {
      if (stored.type.kind === 'Namespace' && (stored.object.metadata as JsonObject).name === name) return true;
    }
    return false;
  }

  /**
   * Server-side apply of `config` by `manager`; 409 names the other managers unless `force`. `dryRun` (dryRun=All)
   * takes every step — conflicts, merge, defaults, immutability, schema validation — and answers the object as it would
   * be, but stores nothing and moves no resourceVersion.
   */
  apply(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    config: JsonObject,
    manager: string,
    force: boolean,
    dryRun = false,
  ): Outcome {
    const key = keyOf(type, namespace, name);
    const existing = this.objects.get(key);
    const live: JsonObject = existing ? structuredClone(existing.object) : this.skeleton(type, namespace, name);
    const managers: Manager[] = existing ? structuredClone(existing.managers) : [];
    const newPaths = fieldPaths(normalise(type, config));
    const normalised = normalise(type, config);

    const conflicts: { manager: Manager; path: FieldPath }[] = [];
    for (const path of newPaths) {
      if (equal(getAt(normalised, path), getAt(live, path))) continue;
      for (const other of managers) {
        if (other.manager === manager) continue;
        if (other.paths.some((p) => overlaps(p, path))) conflicts.push({ manager: other, path });
      }
    }
    if (conflicts.length > 0 && !force)
      return {
        ok: false,
        status: 409,
        body: conflict(
          type,
          name,
          conflicts.map((c) => ({ manager: c.manager.manager, apiVersion: c.manager.apiVersion, field: printPath(c.path) })),
        ),
      };
    if (force) {
      for (const other of managers) {
        if (other.manager !== manager) other.paths = other.paths.filter((p) => !newPaths.some((n) => overlaps(n, p)));
      }
    }

    const mine = managers.find((m) => m.manager === manager && m.operation === 'Apply');
    for (const path of mine?.paths ?? []) {
      if (newPaths.some((n) => equal(n, path))) continue;
      const ownedElsewhere = managers.some((m) => m !== mine && m.paths.some((p) => overlaps(p, path)));
      if (!ownedElsewhere) deleteAt(live, path);
    }
    for (const path of newPaths) setAt(live, path, getAt(normalised, path) ?? null);

    const entry: Manager = { manager, operation: 'Apply', apiVersion: groupVersion(type), time: new Date().toISOString(), paths: newPaths };
    const nextManagers = [...managers.filter((m) => !(m.manager === manager && m.operation === 'Apply')), entry].filter(
      (m) => m.paths.length > 0,
    );
    return this.commit(type, key, existing, live, nextManagers, existing ? 200 : 201, dryRun);
  }

  /** A plain create (POST): the manager owns every field it sent, with operation Update (as helm or kubectl create). */
  create(type: ResourceType, namespace: string | undefined, object: JsonObject, manager: string): Outcome {
    const name = String(getAt(object, ['metadata', 'name']) ?? '');
    const key = keyOf(type, namespace, name);
    if (this.objects.has(key)) {
      return {
        ok: false,
        status: 409,
        body: {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: `${type.plural}${type.group ? `.${type.group}` : ''} "${name}" already exists`,
          reason: 'AlreadyExists',
          details: { name, group: type.group, kind: type.plural },
          code: 409,
        },
      };
    }
    const live = this.skeleton(type, namespace, name);
    const normalised = normalise(type, object);
    const paths = fieldPaths(normalised);
    for (const path of paths) setAt(live, path, getAt(normalised, path) ?? null);
    return this.commit(
      type,
      key,
      undefined,
      live,
      [{ manager, operation: 'Update', apiVersion: groupVersion(type), time: new Date().toISOString(), paths }],
      201,
    );
  }

  delete(type: ResourceType, namespace: string | undefined, name: string): Outcome {
    const key = keyOf(type, namespace, name);
    const existing = this.objects.get(key);
    if (!existing) return { ok: false, status: 404, body: notFound(type, name) };
    this.objects.delete(key);
    this.revision++;
    if (type.kind === 'Namespace') {
      for (const [k, stored] of this.objects) if ((stored.object.metadata as JsonObject).namespace === name) this.objects.delete(k);
    }
    return {
      ok: true,
      status: 200,
      object: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Success',
        details: { name, group: type.group, kind: type.plural, uid: (existing.object.metadata as JsonObject).uid ?? '' },
      },
    };
  }

  /** A controller's status write: not a client write, never changes ownership of the spec. */
  setStatus(type: ResourceType, namespace: string | undefined, name: string, status: JsonObject): void {
    const stored = this.objects.get(keyOf(type, namespace, name));
    if (!stored || equal(stored.object.status, status)) return;
    stored.object.status = status;
    this.revision++;
    (stored.object.metadata as JsonObject).resourceVersion = String(this.revision);
  }

  private commit(
    type: ResourceType,
    key: string,
    existing: Stored | undefined,
    live: JsonObject,
    managers: Manager[],
    status: number,
    dryRun = false,
  ): Outcome {
    const name = String(getAt(live, ['metadata', 'name']));
    applyDefaults(type, live);
    if (existing) {
      for (const path of type.immutable) {
        const before = getAt(existing.object, path);
        const after = getAt(live, path);
        if (before !== undefined && !equal(before, after)) {
          return {
            ok: false,
            status: 422,
            body: invalid(type, name, [{ field: path.join('.'), message: `Invalid value: ${JSON.stringify(after)}: field is immutable` }]),
          };
        }
      }
    }
    for (const policy of this.admission) {
      if (!policy.kinds.includes(type.kind)) continue;
      const denied = policy.deny(live);
      if (denied !== undefined) return { ok: false, status: 422, body: admissionDenied(type, name, policy.name, denied) };
    }
    try {
      // Validated in the version it was written through (the schemas pin apiVersion); kept in the storage version.
      const { status: _status, ...withoutStatus } = live;
      type.validate({ ...withoutStatus, apiVersion: groupVersion(type) });
    } catch (error) {
      const errors = (error as { errors?: { instancePath?: string; message?: string }[] }).errors ?? [];
      const causes = errors.length
        ? errors.map((e) => ({
            field: (e.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.'),
            message: `Invalid value: ${e.message ?? 'invalid'}`,
          }))
        : [{ field: '', message: String((error as Error).message) }];
      return { ok: false, status: 422, body: invalid(type, name, causes) };
    }
    const meta = live.metadata as JsonObject;
    if (existing) {
      const sameObject = equal(stripVolatile(existing.object), stripVolatile(live));
      const sameOwners = equal(
        existing.managers.map((m) => [m.manager, m.operation, m.apiVersion, m.paths]),
        managers.map((m) => [m.manager, m.operation, m.apiVersion, m.paths]),
      );
      if (sameObject && sameOwners) return { ok: true, status: 200, object: this.render(existing, type) };
      if (type.generation && !equal(specOf(existing.object), specOf(live))) meta.generation = Number(meta.generation ?? 1) + 1;
    }
    if (dryRun) {
      // What the write would have produced, never stored: the live object keeps its resourceVersion.
      if (existing) meta.resourceVersion = (existing.object.metadata as JsonObject).resourceVersion ?? null;
      return { ok: true, status, object: this.render({ type: storageType(type), object: live, managers }, type) };
    }
    this.revision++;
    meta.resourceVersion = String(this.revision);
    const stored: Stored = { type: storageType(type), object: live, managers };
    this.objects.set(key, stored);
    this.onChange(stored.type, live);
    return { ok: true, status, object: this.render(stored, type) };
  }

  private skeleton(type: ResourceType, namespace: string | undefined, name: string): JsonObject {
    const metadata: JsonObject = {
      name,
      uid: randomUUID(),
      creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      generation: 1,
    };
    if (type.namespaced && namespace) metadata.namespace = namespace;
    return { apiVersion: groupVersion(storageType(type)), kind: type.kind, metadata };
  }

  /** The stored object as a client reading it through `as` (default: its storage version) sees it. */
  private render(stored: Stored, as: ResourceType = stored.type): JsonObject {
    const object = structuredClone(stored.object);
    object.apiVersion = groupVersion(as);
    const meta = object.metadata as JsonObject;
    meta.managedFields = stored.managers.map((m) => ({
      manager: m.manager,
      operation: m.operation,
      apiVersion: m.apiVersion,
      time: m.time,
      fieldsType: 'FieldsV1',
      fieldsV1: toFieldsV1(m.paths),
    }));
    return object;
  }
}

/** Secret stringData is write-only: the server folds it into base64 data, as Kubernetes does. */
function normalise(type: ResourceType, config: JsonObject): JsonObject {
  const copy = structuredClone(config);
  if (type.kind === 'Secret' && isObject(copy.stringData)) {
    const data: JsonObject = isObject(copy.data) ? copy.data : {};
    for (const [k, v] of Object.entries(copy.stringData)) data[k] = Buffer.from(String(v)).toString('base64');
    copy.data = data;
    delete copy.stringData;
  }
  return copy;
}

/** A few of the defaults the real server fills in, so a client comparing whole objects would see a difference. */
function applyDefaults(type: ResourceType, live: JsonObject): void {
  const spec = isObject(live.spec) ? live.spec : undefined;
  if (type.kind === 'Deployment' && spec) {
    spec.revisionHistoryLimit ??= 10;
    spec.progressDeadlineSeconds ??= 600;
    spec.replicas ??= 1;
  }
  if (type.kind === 'Service' && spec) {
    spec.type ??= 'ClusterIP';
    if (spec.type !== 'ExternalName') spec.clusterIP ??= `10.43.${Math.floor(Math.random() * 250)}.${Math.floor(1 + Math.random() * 250)}`;
  }
  if (type.kind === 'Secret') live.type ??= 'Opaque';
}

const stripVolatile = (object: JsonObject): Json => {
  const copy = structuredClone(object);
  const meta = copy.metadata as JsonObject;
  delete meta.resourceVersion;
  delete meta.managedFields;
  return copy;
};

const specOf = (object: JsonObject): Json => {
  const { metadata: _m, status: _s, ...rest } = object;
  return rest;
};
