/**
 * Builds the agent bundle of the repository at `root` into `outfile` (default dist/agent.cjs); returns its path and the
 * source files that went into it.
 */
export declare function buildAgent(root?: string, outfile?: string): Promise<{ outfile: string; inputs: string[] }>;
