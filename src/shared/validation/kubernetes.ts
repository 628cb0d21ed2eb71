import { type Checked, fail, ok } from './result';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Checks a Kubernetes DNS-1123 label (namespace and Service names): lower-case alphanumerics and "-", at most 63. */
export function checkDns1123Label(input: string, what = 'name'): Checked<string> {
  if (input.length === 0) return fail(`${what} is empty; expected a DNS-1123 label such as "my-app"`);
  if (input.length > 63) return fail(`${what} "${input}" is ${input.length} characters; the limit is 63`);
  if (!DNS1123_LABEL.test(input)) {
    const suggestion = input
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '');
    const hint = suggestion && DNS1123_LABEL.test(suggestion) ? `, e.g. "${suggestion}"` : '';
    return fail(
      `${what} "${input}" is not a DNS-1123 label: use lower-case letters, digits and "-", starting and ending with a letter or digit${hint}`,
    );
  }
  return ok(input);
}

/** Checks a TCP/UDP port number (1–65535). */
export function checkPort(input: number): Checked<number> {
  if (!Number.isInteger(input) || input < 1 || input > 65535) {
    return fail(`port ${String(input)} is out of range; expected an integer from 1 to 65535`);
  }
  return ok(input);
}
