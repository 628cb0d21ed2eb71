// `npm start`: local control plane on workerd with a local D1 — migrate, serve, seed the demo, print how to log in.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { writeAgentModule } from './build-agent.mjs';
import { seedDemo } from './seed.mjs';

const port = Number(process.env.PORT ?? 8787);
const devToken = process.env.EDGEPLANE_DEV_ADMIN_TOKEN || 'dev-admin-token';
const baseUrl = `http://localhost:${port}`;
const wrangler = ['wrangler'];
// Where the local D1 lives: wrangler's default (.wrangler/state) unless EDGEPLANE_PERSIST_DIR says otherwise.
const persist = process.env.EDGEPLANE_PERSIST_DIR ? ['--persist-to', process.env.EDGEPLANE_PERSIST_DIR] : [];

// A random encryption key for tunnel tokens in the local D1, made once and kept under .wrangler/ (git-ignored).
// Not in .dev.vars: `wrangler types` reads that file, and the committed Env types must not depend on local state.
const keyFile = '.wrangler/dev-encryption-key';
if (!existsSync(keyFile)) {
  mkdirSync('.wrangler', { recursive: true });
  writeFileSync(keyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
}

// The Worker serves the agent bundle in its install manifest: build it from the agent/ beside it.
await writeAgentModule();

const migrate = spawnSync('npx', [...wrangler, 'd1', 'migrations', 'apply', 'edgeplane', '--local', ...persist], {
  stdio: 'inherit',
  env: { ...process.env, CI: 'true' },
});
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const vars = {
  ENVIRONMENT: 'development',
  EDGEPLANE_DEV_ADMIN_TOKEN: devToken,
  EDGEPLANE_ENCRYPTION_KEY: readFileSync(keyFile, 'utf8').trim(),
};
// Point the Cloudflare sync at a fake or a real account from the environment (see README → Cloudflare), and put the
// console behind Cloudflare Access the same way (docs/admin.md → Login).
for (const name of [
  'CLOUDFLARE_API_BASE_URL',
  'CLOUDFLARE_API_TOKEN',
  'CLOUDFLARE_ACCOUNT_ID',
  'ACCESS_TEAM_DOMAIN',
  'ACCESS_AUD',
  'ACCESS_ROLES',
]) {
  if (process.env[name]) vars[name] = process.env[name];
}
// Secrets go to wrangler in a file readable only by this user, never on its command line (which `ps` shows to everyone).
// Not .dev.vars: `wrangler types` reads that file, and the committed Env types must not depend on local state.
const envFile = '.wrangler/dev.env';
mkdirSync('.wrangler', { recursive: true });
writeFileSync(
  envFile,
  Object.entries(vars)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}\n`)
    .join(''),
  { mode: 0o600 },
);
chmodSync(envFile, 0o600);
const dev = spawn('npx', [...wrangler, 'dev', '--port', String(port), '--ip', '127.0.0.1', ...persist, '--env-file', envFile], {
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => dev.kill(signal));
dev.on('exit', (code) => process.exit(code ?? 0));

async function waitForHealth() {
  for (let i = 0; i < 240; i++) {
    try {
      if ((await fetch(`${baseUrl}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the Worker did not answer ${baseUrl}/healthz within 60 s`);
}

try {
  await waitForHealth();
  const seeded = await seedDemo(baseUrl, devToken, process.env.CLOUDFLARE_ACCOUNT_ID || undefined);
  console.log(
    [
      '',
      `edgeplane is running on ${baseUrl}  (${seeded ? 'demo data seeded' : 'demo data already present'})`,
      `  API:        ${baseUrl}/v1/clusters   (Authorization: Bearer ${devToken})`,
      `  API docs:   ${baseUrl}/openapi.json`,
      `  dev login:  the token above is accepted only while ENVIRONMENT=development`,
      '',
    ].join('\n'),
  );
} catch (error) {
  console.error(String(error));
  dev.kill('SIGTERM');
  process.exit(1);
}
