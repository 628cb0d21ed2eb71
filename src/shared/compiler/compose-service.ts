import { split } from 'shlex';
import type { WorkloadPort } from '../api/workload';
import { parseEnvFile } from './compose-interpolate';

/** A workload an import would create: the `POST /v1/workloads` body without `cluster` (validated by the caller). */
export interface ComposeWorkload {
  id: string;
  namespace: string;
  image: string;
  command?: string[];
  args?: string[];
  env: Record<string, string>;
  ports: WorkloadPort[];
  replicas: number;
  resources: { requests?: { cpu?: string; memory?: string }; limits?: { cpu?: string; memory?: string } };
  healthCheck: { path: string; port?: number } | null;
  volumes: { name: string; mountPath: string; size: string; readOnly: boolean }[];
  annotations: Record<string, string>;
}

/** What could not be carried over, by compose field. */
export interface NotPortable {
  field: string;
  reason: string;
}

/** Reading one service: the workload, plus warnings, what is not portable, and hard errors (by field). */
export interface ServiceReading {
  workload: ComposeWorkload;
  warnings: string[];
  notPortable: NotPortable[];
  errors: { field: string; message: string }[];
}

type Notes = Omit<ServiceReading, 'workload'>;

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Keys this import translates (or reports on purpose); any other key is listed as not portable. */
const HANDLED = new Set([
  'image',
  'build',
  'command',
  'entrypoint',
  'environment',
  'env_file',
  'ports',
  'expose',
  'volumes',
  'healthcheck',
  'deploy',
  'depends_on',
  'labels',
  'restart',
  'container_name',
  'networks',
  'hostname',
]);

/** A DNS-1123 label from a compose name (`my_db` → `my-db`), or null when nothing is left. */
export function toLabel(name: string): string | null {
  const label = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(label) ? label : null;
}

/** A list or a `KEY: value` map (environment, labels) as a record; `KEY` alone in a list means "from the shell": empty here. */
export function keyValues(value: unknown): Record<string, string> {
  if (Array.isArray(value)) {
    const out: Record<string, string> = {};
    for (const item of value) {
      const text = String(item);
      const eq = text.indexOf('=');
      if (eq < 0) out[text] = '';
      else out[text.slice(0, eq)] = text.slice(eq + 1);
    }
    return out;
  }
  if (isRecord(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v === null || v === undefined ? '' : String(v)]));
  return {};
}

const words = (value: unknown): string[] | undefined => {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value.map(String);
  return split(String(value));
};

/** Compose's byte sizes (`512m`, `1g`, `1024k`, `2gb`) as Kubernetes quantities. */
function memory(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([bkmg])?b?$/i.exec(String(value).trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? 'b').toLowerCase();
  const bytes = n * ({ b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[unit] ?? 1);
  if (bytes % 1024 ** 3 === 0) return `${bytes / 1024 ** 3}Gi`;
  if (bytes % 1024 ** 2 === 0) return `${bytes / 1024 ** 2}Mi`;
  if (bytes % 1024 === 0) return `${bytes / 1024}Ki`;
  return String(Math.ceil(bytes));
}

const cpu = (value: unknown): string | undefined => (value === undefined ? undefined : String(value).trim() || undefined);

function resources(deploy: Record<string, unknown>): ComposeWorkload['resources'] {
  const out: ComposeWorkload['resources'] = {};
  const r = isRecord(deploy.resources) ? deploy.resources : {};
  for (const [from, to] of [
    ['limits', 'limits'],
    ['reservations', 'requests'],
  ] as const) {
    const part = r[from];
    if (!isRecord(part)) continue;
    const entry = { ...(cpu(part.cpus) ? { cpu: cpu(part.cpus) } : {}), ...(memory(part.memory) ? { memory: memory(part.memory) } : {}) };
    if (Object.keys(entry).length > 0) out[to] = entry;
  }
  return out;
}

/** Container ports from `ports` (short and long syntax) and `expose`; published host ports are reported. */
function ports(service: Record<string, unknown>, reading: Notes): WorkloadPort[] {
  const out: { port: number; protocol: 'TCP' | 'UDP' }[] = [];
  const add = (port: number, protocol: 'TCP' | 'UDP', field: string) => {
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      return void reading.errors.push({ field, message: `port ${port} is not 1 to 65535` });
    if (!out.some((p) => p.port === port && p.protocol === protocol)) out.push({ port, protocol });
  };
  const published: string[] = [];
  for (const [i, entry] of (Array.isArray(service.ports) ? service.ports : []).entries()) {
    const field = `ports[${i}]`;
    if (isRecord(entry)) {
      const protocol = String(entry.protocol ?? 'tcp').toUpperCase() === 'UDP' ? 'UDP' : 'TCP';
      add(Number(entry.target), protocol, field);
      if (entry.published !== undefined) published.push(`${String(entry.published)}→${String(entry.target)}`);
      continue;
    }
    const m = /^(?:(?:\d+\.\d+\.\d+\.\d+|\[[^\]]+\]):)?(?:(\d+(?:-\d+)?):)?(\d+)(?:-(\d+))?(?:\/(tcp|udp))?$/i.exec(String(entry).trim());
    if (!m?.[2]) {
      reading.errors.push({ field, message: `"${String(entry)}" is not a compose port ("8000", "8080:8000", "127.0.0.1:8080:8000/tcp")` });
      continue;
    }
    const protocol = m[4]?.toLowerCase() === 'udp' ? 'UDP' : 'TCP';
    const first = Number(m[2]);
    const last = m[3] ? Number(m[3]) : first;
    if (last - first > 20) {
      reading.errors.push({ field, message: `the range ${first}-${last} has more than 20 ports; list the ones the app uses` });
      continue;
    }
    for (let p = first; p <= last; p++) add(p, protocol, field);
    if (m[1]) published.push(`${m[1]}→${m[2]}${m[3] ? `-${m[3]}` : ''}`);
  }
  for (const [i, entry] of (Array.isArray(service.expose) ? service.expose : []).entries()) {
    const m = /^(\d+)(?:\/(tcp|udp))?$/i.exec(String(entry).trim());
    if (m?.[1]) add(Number(m[1]), m[2]?.toLowerCase() === 'udp' ? 'UDP' : 'TCP', `expose[${i}]`);
    else reading.errors.push({ field: `expose[${i}]`, message: `"${String(entry)}" is not a port` });
  }
  if (published.length > 0) {
    reading.notPortable.push({
      field: 'ports',
      reason: `host ports ${published.join(', ')} are not published on the nodes; reach the app through its Service or a tunnel route`,
    });
  }
  return out.map((p) => (p.protocol === 'TCP' ? p.port : p));
}

/** Named volumes become PersistentVolumeClaims; bind mounts and tmpfs are reported as not portable. */
function volumes(service: Record<string, unknown>, reading: Notes): ComposeWorkload['volumes'] {
  const out: ComposeWorkload['volumes'] = [];
  for (const [i, entry] of (Array.isArray(service.volumes) ? service.volumes : []).entries()) {
    const field = `volumes[${i}]`;
    let type: string;
    let source: string;
    let target: string;
    let readOnly = false;
    if (isRecord(entry)) {
      type = String(entry.type ?? 'volume');
      source = String(entry.source ?? '');
      target = String(entry.target ?? '');
      readOnly = entry.read_only === true;
    } else {
      const parts = String(entry).split(':');
      if (parts.length === 1) {
        type = 'anonymous';
        source = '';
        target = parts[0] ?? '';
      } else {
        source = parts[0] ?? '';
        target = parts[1] ?? '';
        readOnly = (parts[2] ?? '').split(',').includes('ro');
        type = /^[./~]/.test(source) ? 'bind' : 'volume';
      }
    }
    if (type === 'bind') {
      reading.notPortable.push({
        field,
        reason: `bind mount "${source}" → ${target}: a host directory does not follow the pod to another node; copy the files into the image, a ConfigMap, or a named volume`,
      });
    } else if (type !== 'volume' || source === '') {
      reading.notPortable.push({
        field,
        reason: `${type} volume at ${target} is not carried over (only named volumes become PersistentVolumeClaims)`,
      });
    } else {
      const name = toLabel(source);
      if (!name) reading.errors.push({ field, message: `volume name "${source}" cannot be turned into a Kubernetes name` });
      else out.push({ name, mountPath: target, size: '1Gi', readOnly });
    }
  }
  return out;
}

/** An HTTP health check (`curl`/`wget` to localhost) becomes probes; any other check is reported and left out. */
function healthCheck(service: Record<string, unknown>, reading: Notes): ComposeWorkload['healthCheck'] {
  const check = service.healthcheck;
  if (!isRecord(check)) return null;
  if (check.disable === true) return null;
  const test = Array.isArray(check.test) ? check.test.map(String) : check.test === undefined ? [] : ['CMD-SHELL', String(check.test)];
  if (test[0] === 'NONE') return null;
  const command = test.slice(1).join(' ');
  const url = /\b(?:curl|wget)\b[^|;&]*?https?:\/\/(?:localhost|127\.0\.0\.1|0\.0\.0\.0)(?::(\d+))?(\/[^\s'"|;&]*)?/.exec(command);
  if (!url) {
    reading.warnings.push(
      `healthcheck "${command.slice(0, 80)}" is not an HTTP check; no probe is set (add healthCheck.path by hand if the app serves one)`,
    );
    return null;
  }
  return { path: url[2] ?? '/', ...(url[1] ? { port: Number(url[1]) } : {}) };
}

/** Env from `env_file` (contents pasted in the request) and then `environment`, which wins, as in compose. */
function environment(service: Record<string, unknown>, envFiles: Readonly<Record<string, string>>, reading: Notes) {
  const env: Record<string, string> = {};
  const files = service.env_file === undefined ? [] : Array.isArray(service.env_file) ? service.env_file : [service.env_file];
  for (const [i, entry] of files.entries()) {
    const path = isRecord(entry) ? String(entry.path ?? '') : String(entry);
    const required = isRecord(entry) ? entry.required !== false : true;
    const content = envFiles[path] ?? envFiles[path.replace(/^\.\//, '')];
    if (content === undefined) {
      if (required)
        reading.errors.push({ field: `env_file[${i}]`, message: `"${path}" was not pasted; pass its contents as envFiles["${path}"]` });
      else reading.warnings.push(`env_file "${path}" (optional) was not pasted; its variables are left out`);
      continue;
    }
    const parsed = parseEnvFile(content);
    for (const e of parsed.errors) reading.errors.push({ field: `env_file[${i}]`, message: `${path} line ${e.line}: ${e.message}` });
    Object.assign(env, parsed.values);
  }
  Object.assign(env, keyValues(service.environment));
  for (const name of Object.keys(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      reading.notPortable.push({ field: `environment.${name}`, reason: 'not a valid env name for envFrom (letters, digits, "_")' });
      delete env[name];
    }
  }
  return env;
}

/** Turns one interpolated compose service into a workload (to be validated by the API schema) and what it could not carry. */
export function readComposeService(
  name: string,
  id: string,
  service: Record<string, unknown>,
  options: { namespace: string; envFiles: Readonly<Record<string, string>> },
): ServiceReading {
  const reading: Notes = { warnings: [], notPortable: [], errors: [] };
  for (const key of Object.keys(service).sort()) {
    if (!HANDLED.has(key) && !key.startsWith('x-')) reading.notPortable.push({ field: key, reason: `"${key}" is not translated` });
  }
  if (service.networks !== undefined)
    reading.warnings.push('networks are not carried over: every Service in the namespace is reachable by name, as on one compose network');
  const deploy = isRecord(service.deploy) ? service.deploy : {};
  const replicas = deploy.replicas === undefined ? 1 : Number(deploy.replicas);
  if (!Number.isInteger(replicas) || replicas < 0) reading.errors.push({ field: 'deploy.replicas', message: 'expected a whole number' });
  const dependsOn = Array.isArray(service.depends_on)
    ? service.depends_on.map(String)
    : isRecord(service.depends_on)
      ? Object.keys(service.depends_on)
      : [];
  if (dependsOn.length > 0) {
    reading.warnings.push(
      `depends_on ${dependsOn.join(', ')}: Kubernetes has no start order; the app must retry until they answer (or add an init container)`,
    );
  }
  const annotations: Record<string, string> = { 'edgeplane.dev/compose-service': name };
  const workload: ComposeWorkload = {
    id,
    namespace: options.namespace,
    image: typeof service.image === 'string' ? service.image : '',
    ...(words(service.entrypoint) ? { command: words(service.entrypoint) } : {}),
    ...(words(service.command) ? { args: words(service.command) } : {}),
    env: environment(service, options.envFiles, reading),
    ports: ports(service, reading),
    replicas: Number.isInteger(replicas) && replicas >= 0 ? replicas : 1,
    resources: resources(deploy),
    healthCheck: healthCheck(service, reading),
    volumes: volumes(service, reading),
    annotations,
  };
  return { ...reading, workload };
}
