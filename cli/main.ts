import { readFileSync, writeFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { read } from 'read';
import { stringify } from 'yaml';
import type { Cluster } from '../src/shared/api/cluster';
import type { InstallLink } from '../src/shared/api/install-link';
import type { SyncStatus } from '../src/shared/api/sync';
import type { TraceResponse } from '../src/shared/api/trace';
import { stateJsonSchema } from '../src/shared/state/schema';
import { applySteps, renderApply } from './apply';
import { ApiError, Client } from './client';
import { loadCredentials, saveCredentials, UsageError } from './config';
import { exportState, readCurrent } from './current';
import type { Step } from './diff';
import { planState } from './plan';
import { renderPlan } from './render';
import { renderTrace } from './trace';
import { describeSecret, secretsOf } from './secrets';
import { readState, StateFileError } from './state-file';

/** Exit codes (docs/cli.md): 0 success / no changes, 1 error, 2 the plan has changes (with --detailed-exitcode). */
export const EXIT = { ok: 0, error: 1, changes: 2 } as const;

const out = (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
const json = (value: unknown) => out(JSON.stringify(value, null, 2));

/** The collections `get` and `delete` know, by the names people type. */
const KINDS: Record<string, string> = {
  cluster: 'v1/clusters',
  clusters: 'v1/clusters',
  tunnel: 'v1/tunnels',
  tunnels: 'v1/tunnels',
  route: 'v1/routes',
  routes: 'v1/routes',
  'private-network': 'v1/private-networks',
  'private-networks': 'v1/private-networks',
  'split-tunnel': 'v1/split-tunnel',
  workload: 'v1/workloads',
  workloads: 'v1/workloads',
  'inference-backend': 'v1/inference/backends',
  'inference-backends': 'v1/inference/backends',
  'ml-backend': 'v1/ml-backends',
  'ml-backends': 'v1/ml-backends',
};

function collection(kind: string): string {
  const path = KINDS[kind];
  if (!path) throw new UsageError(`unknown kind "${kind}"; one of ${[...new Set(Object.keys(KINDS))].join(', ')}`);
  return path;
}

/** A saved plan (`plan --out`): the exact requests apply sends, with the If-Match of the versions the plan read. */
interface SavedPlan {
  edgeplanePlan: 1;
  url: string;
  /** The state file it was made from: its secret references are read again (never saved) when it is applied. */
  file?: string;
  steps: Step[];
}

function program(): Command {
  const cli = new Command('edgeplane')
    .description('Plan, apply and export edgeplane state from a terminal or CI')
    .addOption(new Option('--url <url>', 'the Worker to talk to (default: EDGEPLANE_URL, else the one `login` stored)'))
    .showHelpAfterError()
    .exitOverride();
  const client = () => {
    const { url, token } = loadCredentials(cli.opts<{ url?: string }>().url);
    return new Client(url, token);
  };

  cli
    .command('login')
    .description('store the Worker URL and an API token (from EDGEPLANE_TOKEN or a prompt) in your config directory, mode 0600')
    .argument('<url>', 'the Worker, e.g. https://edgeplane.example.workers.dev')
    .action(async (url: string) => {
      const token =
        process.env.EDGEPLANE_TOKEN ?? (await read({ prompt: 'API token: ', silent: true, replace: '*', output: process.stderr })).trim();
      if (!token) throw new UsageError('no token given');
      await new Client(url, token).request('GET', 'v1/clusters', { query: { limit: '1' } });
      saveCredentials({ url, token });
      out(`logged in to ${url}`);
    });

  cli
    .command('status')
    .description('clusters, their agent connection, applied vs desired revision, and failing sync rows')
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean }) => {
      const c = client();
      const clusters = await c.list<Cluster>('v1/clusters');
      const sync = (await c.request<SyncStatus>('GET', 'v1/sync')).body;
      const failing = sync.targets.filter((t) => t.lastError || t.conflict);
      if (options.json) {
        json({ clusters, failing, accounts: sync.accounts });
        return;
      }
      for (const cl of clusters) {
        const behind = cl.appliedRevision === cl.desiredRevision ? 'in sync' : `applied ${cl.appliedRevision ?? 'none'}`;
        out(`cluster ${cl.id}: ${cl.connection}, desired revision ${cl.desiredRevision} (${behind})`);
      }
      if (clusters.length === 0) out('no clusters');
      for (const t of failing) out(`failing ${t.kind} ${t.target}: ${t.conflict ?? t.lastError ?? ''}`);
      for (const a of sync.accounts.filter((a) => a.lastError)) out(`account ${a.account}: ${a.lastError ?? ''}`);
    });

  cli
    .command('schema')
    .description('print the JSON Schema of the state file (also served at /schema/state.json)')
    .option('-o, --output <file>', 'write it to a file instead')
    .action((options: { output?: string }) => {
      const text = `${JSON.stringify(stateJsonSchema(), null, 2)}\n`;
      if (options.output) writeFileSync(options.output, text);
      else out(text);
    });

  cli
    .command('plan')
    .description("what applying the file would change, as the Worker's own plan decides it")
    .requiredOption('-f, --file <file>', 'the state file (YAML or JSON; - reads standard input)')
    .option('--prune', 'also delete what the file owns but no longer names')
    .option(
      '--update-secrets',
      'send every secret the file references again (the API never shows one, so a changed value is not seen otherwise)',
    )
    .option(
      '--cluster-dry-run',
      "also ask each affected cluster's agent to server-side dry-run the plan's objects (conflicts with other managers, invalid objects)",
    )
    .option('--detailed-exitcode', 'exit 0 when nothing changes, 2 when something would, 1 on error')
    .option('--json', 'machine-readable output')
    .option('--out <file>', 'save the plan for `apply --plan <file>` (which then sends exactly these changes)')
    .action(
      async (options: {
        file: string;
        prune?: boolean;
        updateSecrets?: boolean;
        clusterDryRun?: boolean;
        detailedExitcode?: boolean;
        json?: boolean;
        out?: string;
      }) => {
        const c = client();
        const { diff, report } = await planState(
          c,
          options.file,
          readState(options.file),
          options.prune ?? false,
          options.updateSecrets ?? false,
          options.clusterDryRun ?? false,
        );
        if (options.out)
          writeFileSync(
            options.out,
            JSON.stringify({ edgeplanePlan: 1, url: c.url, file: options.file, steps: diff.steps } satisfies SavedPlan),
          );
        if (options.json) json({ changes: diff.steps.map(({ request: _r, ...s }) => s), unnamed: diff.unnamed, server: report });
        else out(renderPlan(diff, report));
        if (report && report.refused > 0) process.exitCode = EXIT.error;
        else if (options.detailedExitcode && diff.steps.length > 0) process.exitCode = EXIT.changes;
      },
    );

  cli
    .command('apply')
    .description('apply the file (or a saved plan) in dependency order, with If-Match on every update and delete')
    .option('-f, --file <file>', 'the state file (YAML or JSON)')
    .option('--plan <file>', 'a plan saved by `plan --out`: sends exactly its changes, refused if anything changed since')
    .option('--prune', 'also delete what the file owns but no longer names')
    .option('--update-secrets', 'send every secret the file references again (to rotate a value)')
    .option('--auto-approve', 'do not ask for confirmation (needed without a terminal)')
    .option('--json', 'machine-readable output')
    .action(
      async (options: {
        file?: string;
        plan?: string;
        prune?: boolean;
        updateSecrets?: boolean;
        autoApprove?: boolean;
        json?: boolean;
      }) => {
        const c = client();
        let steps: Step[];
        let source = options.file ?? 'state file';
        if (options.plan) {
          const saved = JSON.parse(readFileSync(options.plan, 'utf8')) as SavedPlan;
          steps = saved.steps;
          source = saved.file ?? options.plan;
        } else if (options.file) {
          const { diff, report } = await planState(
            c,
            options.file,
            readState(options.file),
            options.prune ?? false,
            options.updateSecrets ?? false,
          );
          if (!options.json) out(renderPlan(diff, report));
          if (report && report.refused > 0) {
            if (options.json) json({ applied: [], refused: report.results.filter((r) => r.error) });
            else out('Nothing applied: the Worker would refuse the changes marked above.');
            process.exitCode = EXIT.error;
            return;
          }
          steps = diff.steps;
        } else throw new UsageError('give the state file (-f state.yaml) or a saved plan (--plan plan.json)');
        if (steps.length === 0) {
          if (options.json) json({ applied: [], failed: null, notApplied: [] });
          return;
        }
        if (!options.autoApprove) {
          if (!process.stdin.isTTY) throw new UsageError('not a terminal: pass --auto-approve to apply without confirmation');
          const answer = await read({ prompt: `Apply ${steps.length} change(s)? [y/N] ` });
          if (answer.trim().toLowerCase() !== 'y') throw new UsageError('cancelled; nothing applied');
        }
        const report = await applySteps(c, steps, options.json ? () => undefined : out, source);
        if (options.json) json(report);
        else out(renderApply(report));
        if (report.failed) process.exitCode = EXIT.error;
      },
    );

  cli
    .command('export')
    .description('the current state as a state file that `plan` reports as no change')
    .addOption(new Option('--format <format>', 'output format').choices(['yaml', 'json']).default('yaml'))
    .action(async (options: { format: 'yaml' | 'json' }) => {
      const current = await readCurrent(client());
      const state = exportState(current);
      out(options.format === 'json' ? JSON.stringify(state, null, 2) : stringify(state));
      // The file goes to standard output; what it leaves out goes to standard error, where a person sees it.
      const secrets = secretsOf(state, '.');
      if (secrets.length > 0) {
        process.stderr.write(
          `note: secret values are never exported; the file references environment variables instead: set them before plan or apply:\n`,
        );
        for (const s of secrets) process.stderr.write(`  ${s.at}: ${describeSecret(s)}\n`);
      }
      for (const b of current.inferenceBackends.filter((b) => b.credentials?.type === 'headers')) {
        process.stderr.write(
          `note: inference backend ${b.id} sends credential headers whose names the API does not show: fill in its credentials.headers\n`,
        );
      }
    });

  cli
    .command('get')
    .description('list a kind, or show one object')
    .argument('<kind>', `one of ${Object.keys(KINDS).join(', ')}`)
    .argument('[id]')
    .action(async (kind: string, id: string | undefined) => {
      const c = client();
      const path = collection(kind);
      json(id ? (await c.request('GET', `${path}/${encodeURIComponent(id)}`)).body : await c.list(path));
    });

  cli
    .command('delete')
    .description('delete one object (with If-Match of the version just read)')
    .argument('<kind>')
    .argument('<id>')
    .option('--cascade', 'tunnels: delete their routes and private networks too')
    .action(async (kind: string, id: string, options: { cascade?: boolean }) => {
      const c = client();
      const item = `${collection(kind)}/${encodeURIComponent(id)}`;
      const { etag } = await c.request('GET', item);
      await c.request('DELETE', item, { ...(etag ? { ifMatch: etag } : {}), ...(options.cascade ? { query: { cascade: 'true' } } : {}) });
      out(`deleted ${kind} ${id}`);
    });

  cli
    .command('match')
    .description("which rule of a tunnel's compiled config serves each URL (the route tester)")
    .argument('<urls...>')
    .requiredOption('-t, --tunnel <id>', 'the tunnel')
    .action(async (urls: string[], options: { tunnel: string }) => {
      json((await client().request('POST', `v1/tunnels/${encodeURIComponent(options.tunnel)}/match`, { body: { urls } })).body);
    });

  cli
    .command('trace')
    .description('the chain from a URL to its origin (route, DNS, rule, origin, connectors, workload), first broken link marked')
    .argument('<url>')
    .option('--json', 'machine-readable output (the GET /v1/trace answer)')
    .action(async (url: string, options: { json?: boolean }) => {
      const answer = (await client().request<TraceResponse>('GET', 'v1/trace', { query: { url } })).body;
      if (options.json) json(answer);
      else out(renderTrace(answer));
      // Scripts can tell a broken chain from a healthy one without parsing the output.
      if (answer.firstBroken) process.exitCode = EXIT.error;
    });

  cli
    .command('install')
    .description("print the one-line kubectl apply of a short-lived signed link to the cluster's install manifest")
    .argument('<cluster>')
    .option('--expires-in <seconds>', 'how long the link can be fetched (default 900)')
    .option(
      '--manifest',
      'print the manifest itself instead (with a one-time bootstrap token): edgeplane install <cluster> --manifest | kubectl apply -f -',
    )
    .action(async (cluster: string, options: { expiresIn?: string; manifest?: boolean }) => {
      const id = encodeURIComponent(cluster);
      if (options.manifest) {
        out((await client().request<string>('GET', `v1/clusters/${id}/install.yaml`)).body);
        return;
      }
      const expiresInSeconds = options.expiresIn === undefined ? undefined : Number(options.expiresIn);
      if (expiresInSeconds !== undefined && !Number.isInteger(expiresInSeconds))
        throw new UsageError(`--expires-in takes whole seconds, e.g. 900; got "${options.expiresIn ?? ''}"`);
      const body = expiresInSeconds === undefined ? {} : { expiresInSeconds };
      const link = (await client().request<InstallLink>('POST', `v1/clusters/${id}/install-link`, { body })).body;
      out(link.command);
      process.stderr.write(
        `# the link expires at ${link.expiresAt}; it carries bootstrap token ${link.tokenId}, which registers one agent once\n`,
      );
    });

  const importer = cli.command('import').description('turn a docker-compose.yml or a cloudflared config.yml into edgeplane objects');
  importer
    .command('compose')
    .argument('<file>')
    .requiredOption('--cluster <id>')
    .requiredOption('--namespace <name>')
    .option('--tunnel <id>', 'the tunnel for the Traefik routes')
    .option('--replace-routes', "re-point the tunnel's routes at the same hostname and path to the new Services")
    .option('--apply', 'create them (default: report only)')
    .action(async (file: string, o: { cluster: string; namespace: string; tunnel?: string; replaceRoutes?: boolean; apply?: boolean }) => {
      const body = {
        cluster: o.cluster,
        namespace: o.namespace,
        compose: readFileSync(file, 'utf8'),
        dryRun: !o.apply,
        replaceRoutes: o.replaceRoutes === true,
        ...(o.tunnel ? { tunnel: o.tunnel } : {}),
      };
      json((await client().request('POST', 'v1/import/compose', { body })).body);
    });
  importer
    .command('cloudflared')
    .argument('<file>')
    .requiredOption('--tunnel <id>')
    .option('--apply', 'create the routes (default: report only)')
    .action(async (file: string, o: { tunnel: string; apply?: boolean }) => {
      const body = { tunnel: o.tunnel, config: readFileSync(file, 'utf8'), dryRun: !o.apply };
      json((await client().request('POST', 'v1/import/cloudflared-config', { body })).body);
    });
  return cli;
}

/** Prints an error the way a person can act on it: the envelope's message and each field's path. */
function report(error: unknown): void {
  if (error instanceof ApiError) {
    process.stderr.write(`error: ${error.message}${error.status ? ` (${error.status} ${error.code})` : ''}\n`);
    for (const d of error.details) process.stderr.write(`  ${d.path}: ${d.message}\n`);
  } else if (error instanceof StateFileError) {
    process.stderr.write(`error: ${error.file} is not a valid state file:\n`);
    for (const p of error.problems) process.stderr.write(`  ${p.path ? `${p.path}: ` : ''}${p.message}\n`);
  } else if (error instanceof UsageError) {
    process.stderr.write(`error: ${error.message}\n`);
  } else throw error;
}

/** Runs the CLI on `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  process.exitCode = EXIT.ok;
  try {
    await program().parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.error;
    report(error);
    return EXIT.error;
  }
  return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
}
