import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildAgent } from '../../scripts/build-agent.mjs';
import { ROOT, tempDir } from '../support/worker';

// The agent as a real process running the bundled file, for the end-to-end tests and the bench (the Worker beside it
// is test/support/worker.ts).

let bundled: Promise<string> | undefined;
let bundleDir: string | undefined;

/** Removes the bundle `agentBundle` built (call when the last agent has exited). */
export function removeAgentBundle(): void {
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
  bundleDir = undefined;
  bundled = undefined;
}

/** Builds the agent bundle once per run, exactly as `npm run build:agent` does, into a temporary directory. */
export function agentBundle(): Promise<string> {
  bundled ??= (async () => {
    const buildDir = tempDir('agent-build');
    bundleDir = buildDir;
    return (await buildAgent(ROOT, path.join(buildDir, 'agent.cjs'))).outfile;
  })();
  return bundled;
}

export interface AgentOptions {
  workerUrl: string;
  clusterId: string;
  kubeconfigPath: string;
  bootstrapTokenPath: string;
  port: number;
  env?: Record<string, string>;
  /** Node flags, e.g. the heap limits agent/Dockerfile runs with. */
  nodeArgs?: string[];
}

/** The agent as a real Node process running the bundled file. */
export class AgentProcess {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<number | null>;

  private constructor(
    child: ChildProcess,
    readonly port: number,
  ) {
    this.child = child;
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Wraps an agent process started some other way (e.g. from the install manifest's command line). */
  static attach(child: ChildProcess, port: number): AgentProcess {
    return new AgentProcess(child, port);
  }

  static async start(options: AgentOptions): Promise<AgentProcess> {
    const file = await agentBundle();
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), file], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '',
        EDGEPLANE_URL: options.workerUrl,
        EDGEPLANE_CLUSTER_ID: options.clusterId,
        EDGEPLANE_NAMESPACE: 'edgeplane-system',
        EDGEPLANE_BOOTSTRAP_TOKEN_FILE: options.bootstrapTokenPath,
        EDGEPLANE_LISTEN_PORT: String(options.port),
        EDGEPLANE_POLL_INTERVAL_SECONDS: '2',
        EDGEPLANE_RESYNC_INTERVAL_SECONDS: '2',
        EDGEPLANE_BACKOFF_BASE_MS: '100',
        EDGEPLANE_BACKOFF_MAX_SECONDS: '1',
        KUBECONFIG: options.kubeconfigPath,
        ...options.env,
      },
    });
    return new AgentProcess(child, options.port);
  }

  /** Parsed JSON log lines. */
  logs(): { level: string; msg: string; [key: string]: unknown }[] {
    return this.output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: string; msg: string });
  }

  async metrics(): Promise<Record<string, number>> {
    const text = await (await fetch(`http://127.0.0.1:${this.port}/metrics`)).text();
    const values: Record<string, number> = {};
    for (const line of text.split('\n')) {
      const m = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
      if (m?.[1] && m[2]) values[m[1]] = Number(m[2]);
    }
    return values;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

export function writeFile(dir: string, name: string, content: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}
