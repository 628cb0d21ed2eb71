// Runs the Triton-protocol fake on its own (benchmarks spawn it so it has its own event loop): prints its origin, then
// serves until SIGTERM. A backend's upstream URL is `<origin>/i/<instance>`. Run: `npx tsx test/fakes/triton/serve.ts`.
import { startFakeTriton } from './server';

const fake = await startFakeTriton();
console.log(fake.origin);
const stop = () => {
  fake.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
