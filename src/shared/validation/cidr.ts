import { type Checked, fail, ok } from './result';

/** A parsed CIDR: address family, network address as a bigint, and prefix length. */
export interface Cidr {
  version: 4 | 6;
  network: bigint;
  prefix: number;
  text: string;
}

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || (part.length > 1 && part.startsWith('0'))) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

function parseIpv6(text: string): bigint | undefined {
  if (text.includes('.')) {
    // Embedded IPv4 tail, e.g. ::ffff:10.0.0.1
    const lastColon = text.lastIndexOf(':');
    const v4 = parseIpv4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    const hi = (v4 >> 16n).toString(16);
    const lo = (v4 & 0xffffn).toString(16);
    return parseIpv6(`${text.slice(0, lastColon + 1)}${hi}:${lo}`);
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  let value = 0n;
  for (const group of groups) {
    if (!/^[0-9a-f]{1,4}$/i.test(group)) return undefined;
    value = (value << 16n) | BigInt(parseInt(group, 16));
  }
  return value;
}

/** Formats an IPv4 address held in a bigint. */
export function formatIpv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

/** Formats an IPv6 address in RFC 5952 canonical form (lower case, longest zero run compressed). */
export function formatIpv6(value: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt((7 - i) * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength && j - i >= 2) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

const bits = (version: 4 | 6): number => (version === 4 ? 32 : 128);

/**
 * Parses a CIDR ("10.43.0.0/16", "fd00::/8"). A bare address is taken as a host route (/32 or /128).
 * Host bits must be zero: "10.43.0.1/16" is rejected with the canonical "10.43.0.0/16" suggested.
 */
export function checkCidr(input: string): Checked<Cidr> {
  const raw = input.trim();
  const [address = '', prefixText, ...rest] = raw.split('/');
  if (rest.length > 0) return fail(`"${raw}" is not a CIDR; expected an address and one prefix length, e.g. "10.43.0.0/16"`);
  const isV6 = address.includes(':');
  const version: 4 | 6 = isV6 ? 6 : 4;
  const network = isV6 ? parseIpv6(address) : parseIpv4(address);
  if (network === undefined) {
    return fail(
      isV6
        ? `"${raw}": "${address}" is not a valid IPv6 address, e.g. "fd00:10:42::/48"`
        : `"${raw}": "${address}" is not a valid IPv4 address (four numbers 0-255 without leading zeros), e.g. "10.43.0.0/16"`,
    );
  }
  let prefix = bits(version);
  if (prefixText !== undefined) {
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits(version)) {
      return fail(`"${raw}": prefix length "/${prefixText}" is invalid; expected 0 to ${bits(version)} for IPv${version}`);
    }
    prefix = Number(prefixText);
  }
  const hostMask = (1n << BigInt(bits(version) - prefix)) - 1n;
  const format = version === 4 ? formatIpv4 : formatIpv6;
  if ((network & hostMask) !== 0n) {
    const canonical = `${format(network & ~hostMask)}/${prefix}`;
    return fail(`"${raw}" has host bits set; the network is "${canonical}"`);
  }
  const text = `${format(network)}/${prefix}`;
  if (isV6 && prefixText !== undefined && text !== raw.toLowerCase()) {
    return fail(`"${raw}" is not in canonical form; write "${text}"`);
  }
  return ok({ version, network, prefix, text });
}

/** True when two CIDRs share at least one address. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.version !== b.version) return false;
  const shortest = Math.min(a.prefix, b.prefix);
  const shift = BigInt(bits(a.version) - shortest);
  return a.network >> shift === b.network >> shift;
}
