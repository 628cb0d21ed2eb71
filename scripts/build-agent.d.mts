/**
 * Builds the agent bundle of the repository at `root` into `outfile` (default dist/agent.cjs); returns its path and the
 * source files that went into it.
 */
export declare function buildAgent(root?: string, outfile?: string): Promise<{ outfile: string; inputs: string[] }>;
/** Writes worker/generated/agent-bundle.ts (the bundle as a string module) when its content changed. */
export function writeAgentModule(root?: string): Promise<{ file: string; bytes: number }>;
