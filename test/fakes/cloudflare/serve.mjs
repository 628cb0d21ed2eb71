// Runs the Cloudflare API fake for local dev: `npm run fake:cloudflare` (Node 24 strips the TypeScript types).
// Point the Worker at it with CLOUDFLARE_API_BASE_URL=<printed URL>, CLOUDFLARE_API_TOKEN=<printed token>.
import { loadFake } from './load.mjs';

const { startFakeCloudflare, DEFAULT_TOKEN } = await loadFake();
const port = Number(process.env.FAKE_CLOUDFLARE_PORT ?? 8788);
const token = process.env.CLOUDFLARE_API_TOKEN || DEFAULT_TOKEN;
const fake = await startFakeCloudflare({ port, token });
// Zones the Worker can put CNAMEs in (the demo seed uses example.com); they belong to CLOUDFLARE_ACCOUNT_ID.
const account = process.env.CLOUDFLARE_ACCOUNT_ID;
const zones = (process.env.FAKE_CLOUDFLARE_ZONES ?? 'example.com').split(',').filter(Boolean);
if (account) for (const zone of zones) fake.state.addZone(account, zone);
else console.error('CLOUDFLARE_ACCOUNT_ID is not set: no zone was created, so DNS for routes will report "no zone"');
console.log(fake.baseUrl);
console.error(
  `Cloudflare API fake: CLOUDFLARE_API_BASE_URL=${fake.baseUrl} CLOUDFLARE_API_TOKEN=${token}; control endpoints at ${fake.origin}/__fake/*`,
);
const stop = () => {
  fake.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
