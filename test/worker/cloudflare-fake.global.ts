import type { TestProject } from 'vitest/node';
import { DEFAULT_TOKEN, type FakeCloudflare, startFakeCloudflare } from '../fakes/cloudflare/server';

// Node side of the workerd tests: one Cloudflare API fake for the whole run. Test files share it safely because
// every object, call, fault and violation in the fake belongs to an account, and each test uses its own account.

declare module 'vitest' {
  export interface ProvidedContext {
    cloudflareFake: { baseUrl: string; origin: string; token: string };
  }
}

let fake: FakeCloudflare | undefined;

export async function setup(project: TestProject): Promise<void> {
  fake = await startFakeCloudflare();
  project.provide('cloudflareFake', { baseUrl: fake.baseUrl, origin: fake.origin, token: DEFAULT_TOKEN });
}

export async function teardown(): Promise<void> {
  await fake?.close();
}
