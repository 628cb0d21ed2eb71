import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../agent/check';
import { checkDesiredBundle, checkDryRunNotify, checkDryRuns, checkNotify, checkRegistered } from '../../agent/protocol';
import { buildAgent } from '../../scripts/build-agent.mjs';
import { agentRegistered, desiredBundle, notifyMessage } from '../../src/shared/api/agent';
import { agentDryRuns, dryRunNotifyMessage } from '../../src/shared/api/cluster-dry-run';
import { compileClusterBundle } from '../../src/shared/compiler/manifests';
import { desiredClusterArb } from '../unit/compiler/arbitraries';
import { ROOT, tempDir } from '../support/worker';

const bundleArb = fc.tuple(desiredClusterArb, fc.nat(), fc.nat({ max: 50 })).map(([desired, revision, maxDeletes]) => {
  const compiled = compileClusterBundle(desired);
  return {
    clusterId: desired.cluster.id,
    revision,
    hash: compiled.hash,
    objects: compiled.objects,
    origins: [{ route: 'r1', hostname: 'app.example.com', namespace: 'apps', name: 'web', port: 80 }],
    prune: { maxDeletes, windowSeconds: 600, allowEmpty: compiled.objects.length === 0, approval: null },
    probes: [
      {
        id: 'prb_1',
        targets: [{ host: 'db.example.com', port: 5432, tls: true, tlsVerify: true, serverName: 'db' }],
        nodes: revision % 2 ? null : ['worker-1'],
        timeoutMs: 3000,
        hostNetwork: false,
      },
    ],
  } as Record<string, unknown>;
});

/** Ways a Worker answer can be wrong; each must be refused by the zod schema and by the agent's check alike. */
const breakages: [string, (b: Record<string, unknown>) => void][] = [
  ['revision as a string', (b) => (b.revision = String(b.revision))],
  ['revision not an integer', (b) => (b.revision = 1.5)],
  ['no hash', (b) => delete b.hash],
  ['objects not an array', (b) => (b.objects = {})],
  ['an object without a kind', (b) => (b.objects = [{ apiVersion: 'v1', metadata: { name: 'x' } }])],
  ['an object with an empty name', (b) => (b.objects = [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: '' } }])],
  [
    'a label that is not a string',
    (b) => (b.objects = [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', labels: { a: 1 } } }]),
  ],
  ['an origin port as a string', (b) => (b.origins = [{ route: 'r', hostname: 'h', namespace: 'n', name: 's', port: '80' }])],
  ['negative maxDeletes', (b) => (b.prune = { maxDeletes: -1, windowSeconds: 600, allowEmpty: false, approval: null })],
  ['no allowEmpty', (b) => (b.prune = { maxDeletes: 1, windowSeconds: 600, approval: null })],
  ['no window', (b) => (b.prune = { maxDeletes: 1, allowEmpty: false, approval: null })],
  ['an approval without objects', (b) => (b.prune = { maxDeletes: 1, windowSeconds: 600, allowEmpty: false, approval: { revision: 3 } })],
  [
    'a probe target port as a string',
    (b) =>
      (b.probes = [
        { id: 'p', targets: [{ host: 'h', port: '5432', tls: false, tlsVerify: true }], nodes: null, timeoutMs: 1, hostNetwork: false },
      ]),
  ],
  ['probe nodes as a string', (b) => (b.probes = [{ id: 'p', targets: [], nodes: 'all', timeoutMs: 1, hostNetwork: false }])],
];

describe("the agent's checks of Worker answers agree with the protocol's zod schemas", () => {
  it('accept every bundle the compiler produces, as the schema does', () => {
    fc.assert(
      fc.property(bundleArb, (bundle) => {
        expect(desiredBundle.safeParse(bundle).success).toBe(true);
        expect(checkDesiredBundle(bundle)).toBe(bundle);
      }),
      { numRuns: 50 },
    );
  });

  it.each(breakages)('refuse a bundle with %s, naming the field', (_name, breakIt) => {
    const bundle = fc.sample(bundleArb, { numRuns: 1, seed: 7 })[0] ?? {};
    breakIt(bundle);
    expect(desiredBundle.safeParse(bundle).success).toBe(false);
    expect(() => checkDesiredBundle(bundle)).toThrow(ShapeError);
    expect(() => checkDesiredBundle(bundle)).toThrow(/^(revision|hash|objects|origins|prune|probes)/);
  });

  it('check the registration answer and notify messages like the schemas', () => {
    const registered = { clusterId: 'c1' };
    expect(agentRegistered.safeParse(registered).success).toBe(true);
    expect(checkRegistered(registered)).toBe(registered);
    const bad = { clusterId: 1 };
    expect(agentRegistered.safeParse(bad).success).toBe(false);
    expect(() => checkRegistered(bad)).toThrow('clusterId: expected a string');
    expect(notifyMessage.safeParse({ revision: 3 }).success).toBe(true);
    expect(checkNotify({ revision: 3 }).revision).toBe(3);
    expect(() => checkNotify({ revision: 'x' })).toThrow(ShapeError);
  });

  it('check pending dry runs and the dry-run notification like the schemas', () => {
    const bundle = fc.sample(bundleArb, { numRuns: 1, seed: 3 })[0] ?? {};
    const answer = { items: [{ id: 'dry_1', revision: 4, objects: bundle.objects }] };
    expect(agentDryRuns.safeParse(answer).success).toBe(true);
    expect(checkDryRuns(answer)).toEqual(answer.items);
    const bad = { items: [{ id: 'dry_1', revision: '4', objects: [] }] };
    expect(agentDryRuns.safeParse(bad).success).toBe(false);
    expect(() => checkDryRuns(bad)).toThrow('items[0].revision');
    expect(dryRunNotifyMessage.safeParse({ dryRun: 'dry_1' }).success).toBe(true);
    expect(checkDryRunNotify({ dryRun: 'dry_1' }).dryRun).toBe('dry_1');
    expect(dryRunNotifyMessage.safeParse({ revision: 3 }).success).toBe(false);
    expect(() => checkDryRunNotify({ revision: 3 })).toThrow(ShapeError);
  });
});

describe('the agent bundle (npm run build:agent)', () => {
  it('contains neither zod nor @kubernetes/client-node, and running it never loads undici', async () => {
    const dir = tempDir('agent-check');
    const { outfile, inputs } = await buildAgent(ROOT, path.join(dir, 'agent.cjs'));
    expect(inputs.filter((i) => /node_modules\/(zod|@kubernetes\/client-node)\//.test(i))).toEqual([]);
    // The agent exits at once on a configuration error; what it loaded on the way is printed at exit.
    const probe = path.join(dir, 'probe.cjs');
    writeFileSync(
      probe,
      "process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify(process.moduleLoadList.filter((m) => /undici/.test(m))) + '\\n'));",
    );
    const run = spawnSync(process.execPath, ['--require', probe, outfile], { env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8' });
    expect(run.stdout).toContain('edgeplane agent configuration is invalid');
    expect(run.stderr).toContain('LOADED []');
  });
});
