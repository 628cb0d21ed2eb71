import { type Checked, fail, ok } from './result';

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Checks a route hostname: RFC 1123 labels (letters, digits, hyphens; punycode `xn--` labels allowed),
 * at most 253 characters, at least two labels, a wildcard only as a whole leading `*.` label, no scheme,
 * no port, no path. Returns the lower-cased hostname.
 */
export function checkHostname(input: string): Checked<string> {
  const raw = input.trim();
  if (raw.length === 0) return fail('hostname is empty; expected a name such as "app.example.com"');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    const bare = raw.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').split(/[/:]/)[0] ?? '';
    return fail(`hostname "${raw}" has a scheme; give the bare hostname, e.g. "${bare}"`);
  }
  if (raw.includes('/')) return fail(`hostname "${raw}" contains a path; put the path in "path" and keep the hostname bare`);
  if (/:\d*$/.test(raw)) {
    return fail(`hostname "${raw}" has a port; cloudflared routes by hostname only, drop ":${raw.split(':').pop() ?? ''}"`);
  }
  if (/[^\x21-\x7e]/.test(raw)) {
    return fail(`hostname "${raw}" contains non-ASCII characters; use its punycode form (labels starting with "xn--")`);
  }
  const name = raw.toLowerCase().replace(/\.$/, '');
  if (name.length > 253) return fail(`hostname is ${name.length} characters long; the limit is 253`);
  const labels = name.split('.');
  if (labels.length < 2)
    return fail(`hostname "${name}" has a single label; expected a fully qualified name such as "${name}.example.com"`);
  for (const [i, label] of labels.entries()) {
    if (label === '*') {
      if (i !== 0) return fail(`hostname "${name}": a wildcard is allowed only as the whole first label, as in "*.example.com"`);
      if (labels.length < 3) return fail(`hostname "${name}": a wildcard needs a parent with at least two labels, as in "*.example.com"`);
      continue;
    }
    if (label.includes('*')) {
      return fail(`hostname "${name}": label "${label}" mixes "*" with other characters; a wildcard must be a whole leading "*." label`);
    }
    if (label.length === 0) return fail(`hostname "${name}" has an empty label (two dots in a row, or a leading dot)`);
    if (label.length > 63) return fail(`hostname "${name}": label "${label.slice(0, 20)}…" is ${label.length} characters; the limit is 63`);
    if (!LABEL.test(label)) {
      return fail(`hostname "${name}": label "${label}" is not valid; labels use a-z, 0-9 and "-", and do not start or end with "-"`);
    }
    if (label.length >= 4 && label.slice(2, 4) === '--' && !label.startsWith('xn--')) {
      return fail(`hostname "${name}": label "${label}" has "--" in positions 3-4, which is reserved for punycode ("xn--")`);
    }
  }
  if (/^\d+$/.test(labels[labels.length - 1] ?? '')) {
    return fail(`hostname "${name}" looks like an IP address; routes need a DNS name`);
  }
  return ok(name);
}
