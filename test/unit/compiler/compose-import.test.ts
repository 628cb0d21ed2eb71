import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { workloadCreate } from '../../../src/shared/api';
import { interpolate, readCompose, readTraefikRule } from '../../../src/shared/compiler';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/compose/${name}`, import.meta.url), 'utf8');
const COMPOSE = fixture('trinity.compose.yml');
const CLOUDFLARED = fixture('trinity.cloudflared.yml');
const base = {
  namespace: 'trinity',
  env: { POSTGRES_PASSWORD: 'pg-secret', MINIO_ROOT_PASSWORD: 'minio-secret' },
  envFiles: { './django.env': '# django\nexport DJANGO_ALLOWED_HOSTS="trinity.example.com"\nEMAIL_PASSWORD=mail\n' },
};

function read(options: Partial<Parameters<typeof readCompose>[1]> = {}) {
  const result = readCompose(COMPOSE, { ...base, ...options });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.proposal;
}

describe('readCompose on the 13-service app', () => {
  it('makes a workload of every app service and skips Traefik and cloudflared with the reason', () => {
    const p = read();
    const status = Object.fromEntries(p.services.map((s) => [s.service, s.status]));
    expect(status).toEqual({
      postgres: 'workload',
      mongo: 'workload',
      redis: 'workload',
      minio: 'workload',
      django: 'workload',
      fastapi: 'workload',
      trinityai: 'workload',
      frontend: 'workload',
      celery: 'workload',
      flight: 'workload',
      pgadmin: 'workload',
      'mongo-express': 'workload',
      traefik: 'skipped',
      cloudflared: 'skipped',
    });
    expect(p.services.find((s) => s.service === 'traefik')?.reason).toContain('router labels become tunnel routes');
    // Every proposed workload is a valid POST /v1/workloads body.
    for (const s of p.services.filter((x) => x.workload)) {
      const parsed = workloadCreate.safeParse({ ...s.workload, cluster: 'trinity' });
      expect(parsed.success, `${s.service}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
    }
  });

  it('turns the Traefik labels into the four path routes straight to the new Services, and reports the rule it cannot translate', () => {
    const p = read();
    expect(p.routes.map((r) => [r.hostname, r.path ?? null, r.workload, r.port])).toEqual([
      ['trinity.example.com', '/admin', 'django', 8000],
      ['trinity.example.com', '/api', 'fastapi', 8001],
      ['trinity.example.com', '/trinityai', 'trinityai', 8002],
      ['trinity.example.com', null, 'frontend', 8080],
    ]);
    expect(p.unrouted).toEqual([expect.objectContaining({ from: 'traefik:ai-debug', reason: expect.stringContaining('"||"') as unknown })]);
    expect(p.services.find((s) => s.service === 'trinityai')?.warnings.join(' ')).toContain('middlewares "ai-strip"');
    expect(p.warnings.join(' ')).toContain('cloudflaredConfig');
  });

  it('reads the cloudflared config: traefik:80 is replaced by the label routes and pgadmin:80 goes to its Service', () => {
    const p = read({ cloudflaredConfig: CLOUDFLARED });
    expect(p.routes.find((r) => r.hostname === 'pgadmin.trinity.example.com')).toEqual({
      from: 'cloudflared:ingress[1]',
      hostname: 'pgadmin.trinity.example.com',
      workload: 'pgadmin',
      port: 80,
    });
    expect(p.unrouted.find((u) => u.from === 'cloudflared:ingress[0]')?.reason).toContain('replaced by the Traefik');
    expect(p.routes.some((r) => r.port === 80 && r.workload === 'traefik')).toBe(false);
  });

  it('translates env, env_file, command/entrypoint, ports, volumes, healthchecks, replicas and resources', () => {
    const p = read();
    const w = (name: string) => {
      const found = p.services.find((s) => s.service === name)?.workload;
      if (!found) throw new Error(`no workload for ${name}`);
      return found;
    };
    expect(w('postgres')).toMatchObject({
      image: 'postgres:16',
      env: { POSTGRES_DB: 'trinity', POSTGRES_USER: 'trinity', POSTGRES_PASSWORD: 'pg-secret' },
      ports: [5432],
      volumes: [{ name: 'pgdata', mountPath: '/var/lib/postgresql/data', size: '1Gi', readOnly: false }],
      healthCheck: null,
    });
    expect(p.services.find((s) => s.service === 'postgres')?.warnings.join(' ')).toContain('not an HTTP check');
    expect(p.services.find((s) => s.service === 'postgres')?.notPortable).toEqual([
      expect.objectContaining({ field: 'ports', reason: expect.stringContaining('5432→5432') as unknown }),
    ]);
    expect(w('django')).toMatchObject({
      args: ['gunicorn', 'trinity.wsgi', '--bind', '0.0.0.0:8000'],
      ports: [8000],
      healthCheck: { path: '/admin/login/', port: 8000 },
    });
    expect(w('django').env).toMatchObject({
      DATABASE_URL: 'postgres://trinity:pg-secret@postgres:5432/trinity',
      DJANGO_ALLOWED_HOSTS: 'trinity.example.com',
      EMAIL_PASSWORD: 'mail',
      DJANGO_SECRET_KEY: 'dev-only-key',
      MINIO_ACCESS_KEY: 'trinity',
    });
    expect(w('fastapi')).toMatchObject({
      command: ['uvicorn'],
      args: ['app.main:app', '--host', '0.0.0.0', '--port', '8001'],
      replicas: 2,
      resources: { limits: { cpu: '1.5', memory: '1Gi' }, requests: { cpu: '0.25', memory: '256Mi' } },
      healthCheck: { path: '/api/health', port: 8001 },
      ports: [8001],
    });
    expect(w('redis').args).toEqual(['redis-server', '--appendonly', 'yes']);
    expect(w('minio').ports).toEqual([9000, 9001]);
    expect(w('minio').args).toEqual(['server', '/data', '--console-address', ':9001']);
    expect(p.services.find((s) => s.service === 'flight')?.notPortable[0]?.reason).toContain('bind mount "./flight-cache"');
    expect(p.services.find((s) => s.service === 'mongo-express')?.notPortable).toContainEqual({
      field: 'privileged',
      reason: '"privileged" is not translated',
    });
    expect(p.services.find((s) => s.service === 'fastapi')?.warnings.join(' ')).toContain('depends_on postgres, mongo');
  });

  it('states where each variable came from: the request, else the compose default', () => {
    const p = read({ env: { ...base.env, APP_VERSION: '2.0.0' } });
    const vars = p.services.find((s) => s.service === 'django')?.variables;
    expect(vars).toContainEqual({ name: 'APP_VERSION', source: 'request' });
    expect(vars).toContainEqual({ name: 'DJANGO_SECRET_KEY', source: 'default' });
    expect(vars).toContainEqual({ name: 'POSTGRES_PASSWORD', source: 'request' });
    expect(p.services.find((s) => s.service === 'django')?.workload?.image).toBe('ghcr.io/trinity/django:2.0.0');
  });
});

describe('readCompose errors', () => {
  it('names the service and the variable when a required one has no value', () => {
    const result = readCompose(COMPOSE, { ...base, env: { MINIO_ROOT_PASSWORD: 'x' } });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toContainEqual({
      path: 'services.postgres',
      message: 'service "postgres": required variable POSTGRES_PASSWORD: set POSTGRES_PASSWORD; pass it in env',
    });
    expect(result.errors.some((e) => e.path === 'services.django')).toBe(true);
  });

  it('names the service and field of a missing env_file, a bad port, a bad YAML line and a missing services map', () => {
    const noEnvFile = readCompose(COMPOSE, { ...base, envFiles: {} });
    expect(!noEnvFile.ok && noEnvFile.errors).toEqual([
      {
        path: 'services.django.env_file[0]',
        message: 'service "django": "./django.env" was not pasted; pass its contents as envFiles["./django.env"]',
      },
    ]);
    const badPort = readCompose('services:\n  web:\n    image: nginx\n    ports: ["80:http"]\n', base);
    expect(!badPort.ok && badPort.errors[0]).toEqual({
      path: 'services.web.ports[0]',
      message: 'service "web": "80:http" is not a compose port ("8000", "8080:8000", "127.0.0.1:8080:8000/tcp")',
    });
    const yaml = readCompose('services:\n  web:\n    image: [nginx\n', base);
    expect(!yaml.ok && yaml.errors[0]?.path).toMatch(/^compose line \d+ column \d+$/);
    expect(readCompose('version: "3"\n', base)).toEqual({
      ok: false,
      errors: [{ path: 'compose.services', message: 'expected a "services:" mapping with at least one service' }],
    });
    const clash = readCompose('services:\n  my_app:\n    image: a\n  my-app:\n    image: b\n', base);
    expect(!clash.ok && clash.errors[0]?.message).toBe('services "my_app" and "my-app" both become workload "my-app"; rename one');
  });
});

describe('interpolate and Traefik rules', () => {
  it('follows compose semantics for defaults, required, alternatives and $$', () => {
    const vars = { SET: 'v', EMPTY: '' };
    expect(interpolate('${SET:-d} ${EMPTY:-d} ${EMPTY-d} ${UNSET-d} $SET $$SET ${SET:+alt} ${UNSET:+alt}', vars).value).toBe(
      'v d  d v $SET alt ',
    );
    expect(interpolate('${UNSET:-${SET}x}', vars).value).toBe('vx');
    expect(interpolate('${EMPTY:?need it}', vars).missing).toEqual([{ name: 'EMPTY', message: 'need it' }]);
    expect(interpolate('${EMPTY?need it}', vars).missing).toEqual([]);
    expect(interpolate('${UNSET}', vars).uses).toEqual([{ name: 'UNSET', source: 'unset' }]);
  });

  it('translates Host && PathPrefix and refuses what a route cannot express', () => {
    expect(readTraefikRule('Host(`a.example.com`) && PathPrefix(`/api`)')).toEqual({
      ok: true,
      hosts: ['a.example.com'],
      pathPrefix: '/api',
    });
    expect(readTraefikRule('Host(`a.example.com`, `b.example.com`)')).toEqual({
      ok: true,
      hosts: ['a.example.com', 'b.example.com'],
      pathPrefix: null,
    });
    expect(readTraefikRule('Host(`a`) || Host(`b`)')).toMatchObject({ ok: false });
    expect(readTraefikRule('Path(`/exact`)')).toMatchObject({ ok: false, reason: expect.stringContaining('Path(...)') as unknown });
    expect(readTraefikRule('HostRegexp(`{sub:[a-z]+}.example.com`)')).toMatchObject({ ok: false });
    expect(readTraefikRule('Host(`a`) && !PathPrefix(`/x`)')).toMatchObject({ ok: false });
  });
});
