import { checkCidr } from './cidr';
import { type Checked, fail, ok } from './result';

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Checks the host of an egress probe target: an IPv4/IPv6 address, or a DNS name as a pod would resolve it (one label
 * such as "postgres" is allowed: the pod's search domains complete it). No scheme, port, path or wildcard.
 */
export function checkProbeHost(input: string): Checked<string> {
  const raw = input.trim();
  if (raw.length === 0) return fail('host is empty; expected a DNS name such as "db.example.com" or an IP address');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) return fail(`host "${raw}" has a scheme; give the bare name and put the port in "port"`);
  if (raw.includes('/')) return fail(`host "${raw}" contains a "/"; give a bare name or address, not a URL or a CIDR`);
  const bracketed = /^\[(.+)\]$/.exec(raw)?.[1];
  const address = bracketed ?? raw;
  if (address.includes(':')) {
    const v6 = checkCidr(address);
    return v6.ok && v6.value.version === 6
      ? ok(address.toLowerCase())
      : fail(`host "${raw}" is not a valid IPv6 address, and a port belongs in "port", not in the host`);
  }
  if (/^[\d.]+$/.test(raw)) {
    const v4 = checkCidr(raw);
    return v4.ok ? ok(raw) : fail(`host "${raw}" is not a valid IPv4 address (four numbers 0-255 without leading zeros)`);
  }
  const name = raw.toLowerCase().replace(/\.$/, '');
  if (name.length > 253) return fail(`host is ${name.length} characters long; the limit is 253`);
  for (const label of name.split('.')) {
    if (label.length === 0) return fail(`host "${name}" has an empty label (two dots in a row, or a leading dot)`);
    if (label.length > 63) return fail(`host "${name}": label "${label.slice(0, 20)}…" is ${label.length} characters; the limit is 63`);
    if (!LABEL.test(label)) return fail(`host "${name}": label "${label}" may use only letters, digits and "-", not at its start or end`);
  }
  return ok(name);
}
