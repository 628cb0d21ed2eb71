import { checkCidr } from './cidr';
import { type Checked, fail, ok } from './result';

/**
 * Checks one IP address (v4 or v6, no prefix length) and returns it in canonical form, e.g. "10.43.0.1" or "fd00::1".
 * Used for a cluster's API server address, which a WARP client reaches through a private network.
 */
export function checkIpAddress(input: string): Checked<string> {
  const raw = input.trim();
  if (raw.includes('/')) return fail(`"${raw}" is a CIDR; give one address, e.g. "10.43.0.1" (the first address of the service CIDR)`);
  const parsed = checkCidr(raw);
  if (!parsed.ok) return fail(`"${raw}" is not an IP address, e.g. "10.43.0.1" or "fd00:10:43::1"`);
  return ok(parsed.value.text.slice(0, parsed.value.text.lastIndexOf('/')));
}
