/** The longest piece of an input an error message quotes (docs/security.md → Input limits). */
export const EXCERPT_CHARS = 64;

/**
 * An input as an error message may quote it: whole when short, else its start and its length, so an error can never
 * grow with the input it refuses.
 */
export function excerpt(input: string, max = EXCERPT_CHARS): string {
  return input.length <= max ? input : `${input.slice(0, max)}…(${input.length} characters)`;
}
