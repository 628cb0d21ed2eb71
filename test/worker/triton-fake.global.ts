import type { TestProject } from 'vitest/node';
import { type FakeTriton, startFakeTriton } from '../fakes/triton/server';

// Node side of the workerd tests: one Triton-protocol origin for the run; each test uses its own instance path.

declare module 'vitest' {
  export interface ProvidedContext {
    tritonFake: string;
  }
}

let fake: FakeTriton | undefined;

export async function setup(project: TestProject): Promise<void> {
  fake = await startFakeTriton();
  project.provide('tritonFake', fake.origin);
}

export async function teardown(): Promise<void> {
  await fake?.close();
}
