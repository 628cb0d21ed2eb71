/** The directory wrangler serves as static assets. */
export declare const ASSETS_DIR: string;
/** Builds the admin console into `<root>/dist/admin-assets`; returns the output directory and the source files bundled. */
export declare function buildAdmin(root?: string): Promise<{ out: string; inputs: string[] }>;
