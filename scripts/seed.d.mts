/** The Cloudflare account id the demo's tunnels and split-tunnel entries use. */
export declare const DEMO_ACCOUNT: string;

/** Creates the demo unless cluster "oceanid" already exists; returns whether it wrote anything. */
export declare function seedDemo(baseUrl: string, token: string, account?: string): Promise<boolean>;
