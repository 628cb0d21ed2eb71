import { writeFileSync } from 'node:fs';
import { FakeKubeApiserver } from './server';

// Standalone fake: `npx tsx test/fakes/kube-apiserver/main.ts [port] [kubeconfig-path]` prints its URL as JSON.
const port = Number(process.argv[2] ?? 0);
const kubeconfigPath = process.argv[3];
const fake = await new FakeKubeApiserver({ controllerDelayMs: Number(process.env.FAKE_CONTROLLER_DELAY_MS ?? 20) }).start(port);
if (kubeconfigPath) writeFileSync(kubeconfigPath, fake.kubeconfig());
process.stdout.write(`${JSON.stringify({ url: fake.url })}\n`);
process.on('SIGTERM', () => {
  void fake.stop().then(() => process.exit(0));
});
