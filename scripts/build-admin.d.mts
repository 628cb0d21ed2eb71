/** The generated module the Worker serves the console from, relative to the project root. */
export declare const ADMIN_MODULE: string;
/** Builds the admin console into `<root>/worker/generated/admin-assets.ts`; returns that file and the sources bundled. */
export declare function buildAdmin(root?: string): Promise<{ file: string; inputs: string[] }>;
