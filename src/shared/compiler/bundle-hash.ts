import { canonicalJson } from './canonical-json';
import { sha256Hex } from './sha256';
import type { KubeObject } from './types';

/** The content hash of a bundle: SHA-256 hex of the canonical JSON of its objects (in bundle order). */
export function bundleHash(objects: readonly KubeObject[]): string {
  return sha256Hex(canonicalJson(objects));
}
