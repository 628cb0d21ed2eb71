import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JsonObject } from './fields';
import type { ResourceType } from './resources';
import type { Store } from './store';

// The Job controller and the kubelet, as far as edgeplane's egress probes depend on them: a Job gets one pod (named
// `<job>-<5 random>`, labelled `job-name`/`controller-uid`, owned by the Job); a pod bound to an existing node
// (`spec.nodeName`) is run by a fake kubelet that starts the container's command as a local process, exposes the
// container's terminationMessagePath as a file, and puts what the process wrote there into the pod's status as
// `state.terminated.message` (at most 4096 bytes, as the kubelet does). A pod bound to a node that does not exist stays
// Pending, as it would. Deleting a Job deletes its pods (garbage collection) and kills a running container.

const FIREWALL = path.join(path.dirname(fileURLToPath(import.meta.url)), 'node-firewall.cjs');
/** The kubelet's cap on a termination message. */
const MESSAGE_LIMIT = 4096;

/** A node's local firewall as the fake kubelet applies it to the containers it runs there ("address:port" entries). */
export interface NodeFirewall {
  /** Connections answered with a reset (ECONNREFUSED), like an iptables REJECT rule. */
  reject?: string[];
  /** Connections whose SYN is dropped: the connect never completes, like an iptables DROP rule. */
  drop?: string[];
}

interface Container {
  name?: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string }[];
  terminationMessagePath?: string;
}

export class JobController {
  /** Per node firewall rules for the fake kubelet. */
  readonly firewalls = new Map<string, NodeFirewall>();
  /** Nodes whose kubelet is gone: their pods are bound but never started (they stay Pending). */
  readonly deadNodes = new Set<string>();
  /** An image's entrypoint, for containers that set no command. */
  readonly images = new Map<string, string[]>();
  /** Pods (namespace/name) the kubelet started, for assertions. */
  readonly ran: { pod: string; node: string; command: string[] }[] = [];
  private readonly processes = new Map<string, ChildProcess>();
  private readonly started = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly type: (group: string, kind: string) => ResourceType,
  ) {}

  /** Called for every stored change of a Job or Pod. */
  onChange(type: ResourceType, object: JsonObject): void {
    if (type.kind === 'Job') this.syncJob(object);
    if (type.kind === 'Pod') this.runPod(object);
  }

  /** Garbage collection of a deleted Job's pods (the agent deletes with propagationPolicy=Background). */
  onDeleted(type: ResourceType, object: JsonObject): void {
    if (type.kind !== 'Job') return;
    const uid = String((object.metadata as JsonObject).uid ?? '');
    const podType = this.type('', 'Pod');
    for (const pod of this.store.list(podType, String((object.metadata as JsonObject).namespace), () => true)) {
      const meta = pod.metadata as JsonObject;
      const owners = (meta.ownerReferences ?? []) as { uid?: string }[];
      if (!owners.some((o) => o.uid === uid)) continue;
      const key = `${String(meta.namespace)}/${String(meta.name)}`;
      this.processes.get(key)?.kill('SIGKILL');
      this.store.delete(podType, String(meta.namespace), String(meta.name));
    }
  }

  stop(): void {
    for (const child of this.processes.values()) child.kill('SIGKILL');
  }

  private syncJob(job: JsonObject): void {
    const meta = job.metadata as JsonObject;
    const namespace = String(meta.namespace);
    const uid = String(meta.uid);
    const podType = this.type('', 'Pod');
    const existing = this.store.list(podType, namespace, (l) => l['controller-uid'] === uid);
    if (existing.length > 0 || this.started.has(uid)) return;
    this.started.add(uid);
    const template = ((job.spec as JsonObject).template ?? {}) as { metadata?: { labels?: Record<string, string> }; spec?: JsonObject };
    const name = `${String(meta.name)}-${randomBytes(3).toString('hex').slice(0, 5)}`;
    this.store.create(
      podType,
      namespace,
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name,
          namespace,
          labels: {
            ...(template.metadata?.labels ?? {}),
            'job-name': String(meta.name),
            'batch.kubernetes.io/job-name': String(meta.name),
            'controller-uid': uid,
            'batch.kubernetes.io/controller-uid': uid,
          },
          ownerReferences: [
            { apiVersion: 'batch/v1', kind: 'Job', name: String(meta.name), uid, controller: true, blockOwnerDeletion: true },
          ],
        },
        spec: template.spec ?? {},
      },
      'kube-controller-manager',
    );
    this.store.setStatus(podType, namespace, name, { phase: 'Pending' });
  }

  private runPod(pod: JsonObject): void {
    const meta = pod.metadata as JsonObject;
    const key = `${String(meta.namespace)}/${String(meta.name)}`;
    const spec = (pod.spec ?? {}) as { nodeName?: string; containers?: Container[] };
    const node = spec.nodeName;
    // A pod bound to no node or a node that does not exist is never run (it stays Pending).
    if (!node || this.started.has(key) || this.deadNodes.has(node) || !this.store.get(this.type('', 'Node'), undefined, node)) return;
    const owner = ((meta.ownerReferences ?? []) as { kind?: string }[]).some((o) => o.kind === 'Job');
    if (!owner) return;
    this.started.add(key);
    const container = spec.containers?.[0] ?? {};
    const containerName = container.name ?? '';
    const image = container.image ?? '';
    const entrypoint = container.command ?? this.images.get(container.image ?? '');
    const podType = this.type('', 'Pod');
    const namespace = String(meta.namespace);
    const name = String(meta.name);
    if (!entrypoint) {
      this.store.setStatus(podType, namespace, name, {
        phase: 'Pending',
        containerStatuses: [
          {
            name: containerName,
            ready: false,
            restartCount: 0,
            image,
            state: { waiting: { reason: 'ErrImagePull', message: `image ${container.image ?? ''} not found` } },
          },
        ],
      });
      return;
    }
    const dir = mkdtempSync(path.join(tmpdir(), 'fake-kubelet-'));
    const messageFile = path.join(dir, 'termination-log');
    writeFileSync(messageFile, '');
    const messagePath = container.terminationMessagePath ?? '/dev/termination-log';
    // The kubelet mounts a file at terminationMessagePath; here the process gets a real file wherever its environment
    // names that path.
    const env: Record<string, string> = { PATH: process.env.PATH ?? '' };
    for (const e of container.env ?? []) env[e.name] = e.value === messagePath ? messageFile : (e.value ?? '');
    const firewall = this.firewalls.get(node);
    if (firewall) {
      env.NODE_OPTIONS = `--require ${FIREWALL}`;
      env.FAKE_NODE_FIREWALL = JSON.stringify(firewall);
    }
    const [file = '', ...rest] = [...entrypoint, ...(container.args ?? [])];
    this.ran.push({ pod: key, node, command: [file, ...rest] });
    const child = spawn(file, rest, { env, cwd: process.cwd(), stdio: 'ignore' });
    this.processes.set(key, child);
    this.store.setStatus(podType, namespace, name, {
      phase: 'Running',
      containerStatuses: [
        { name: containerName, ready: true, restartCount: 0, image, state: { running: { startedAt: new Date().toISOString() } } },
      ],
    });
    child.once('exit', (code, signal) => {
      this.processes.delete(key);
      const message = readFileSync(messageFile, 'utf8').slice(0, MESSAGE_LIMIT);
      rmSync(dir, { recursive: true, force: true });
      if (!this.store.get(podType, namespace, name)) return;
      const exitCode = code ?? (signal ? 137 : 1);
      this.store.setStatus(podType, namespace, name, {
        phase: exitCode === 0 ? 'Succeeded' : 'Failed',
        containerStatuses: [
          {
            name: containerName,
            ready: false,
            restartCount: 0,
            image,
            state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', ...(message ? { message } : {}) } },
          },
        ],
      });
      const jobName = ((meta.labels ?? {}) as Record<string, string>)['job-name'];
      if (jobName) {
        const done = exitCode === 0 ? 'Complete' : 'Failed';
        this.store.setStatus(this.type('batch', 'Job'), namespace, jobName, {
          ...(exitCode === 0 ? { succeeded: 1 } : { failed: 1 }),
          conditions: [{ type: done, status: 'True', lastTransitionTime: new Date().toISOString() }],
        });
      }
    });
  }
}
