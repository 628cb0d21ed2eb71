import { z } from 'zod';
import type { Checked } from '../validation/result';
import { checkCidr, checkDns1123Label, checkHostname, checkIpAddress, checkOriginService, checkPathPrefix } from '../validation';

/**
 * Turns a validator into a zod string schema that normalises its input and reports the validator's message. Longer
 * input than `max` is refused before the validator sees it (its messages quote the input).
 */
export function checkedString(check: (input: string) => Checked<string>, max: number) {
  return z
    .string()
    .max(max, `at most ${max} characters`)
    .transform((input, ctx) => {
      const result = check(input);
      if (!result.ok) {
        ctx.addIssue({ code: 'custom', message: result.message });
        return z.NEVER;
      }
      return result.value;
    });
}

/** A DNS-1123 label used as a resource id (clusters, tunnels, namespaces). */
export const resourceId = (what: string) => checkedString((s) => checkDns1123Label(s, what), 63);

/** A route hostname (exact or `*.` wildcard). */
export const hostname = checkedString(checkHostname, 253);

/** A route path prefix. */
export const pathPrefix = checkedString(checkPathPrefix, 1024);

/** A canonical CIDR, v4 or v6. */
export const cidr = checkedString((s) => {
  const result = checkCidr(s);
  return result.ok ? { ok: true, value: result.value.text } : result;
}, 64);

/** One IP address, v4 or v6, in canonical form. */
export const ipAddress = checkedString(checkIpAddress, 64);

/** A cloudflared origin service string (URL or http_status:NNN). */
export const originService = checkedString(checkOriginService, 2048);

/** A Cloudflare account id: 32 lower-case hex characters. */
export const accountId = z
  .string()
  .regex(/^[0-9a-f]{32}$/, 'a Cloudflare account id is 32 lower-case hex characters (dashboard → Account home → Account ID)');

/** A UUID as Cloudflare uses for tunnel and policy ids. */
export const uuid = z
  .string()
  .regex(
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    'expected a lower-case UUID such as "c1744f8b-faa1-48a4-9e5c-02ac921467fa"',
  );

/** Port 1–65535. */
export const port = z.number().int('port must be an integer').min(1, 'port must be 1 to 65535').max(65535, 'port must be 1 to 65535');

/**
 * A record of at most `max` entries. The count is checked on the raw object before any entry is parsed, so 70,000
 * entries cost one key count, not 70,000 validations and as many error details.
 */
export const boundedRecord = <K extends z.core.$ZodRecordKey, V extends z.ZodType>(key: K, value: V, max: number, what: string) =>
  z
    .record(z.string(), z.unknown())
    .refine((r) => Object.keys(r).length <= max, `at most ${max} ${what}`)
    .pipe(z.record(key, value));

/** Free-form labels with Kubernetes-like keys: at most 64, each value at most 63 characters (the Kubernetes limit). */
export const labels = boundedRecord(
  z.string().regex(/^[a-z0-9A-Z._/-]{1,63}$/, 'label keys use 1 to 63 letters, digits, ".", "_", "/" and "-"'),
  z.string().max(63),
  64,
  'labels',
);
