// Which requests the Worker's fetch sends to the inference proxy (worker/routes/inference-proxy.ts) instead of the
// API's app, read from the URL without parsing all of it.

/** `/v2...` (the default backend) or `/inference/<backend>/v2...`; the rest is what follows `/v2`. */
const INFERENCE_PATH = /^\/(?:inference\/([^/?#]+)\/)?v2(?=[/?#]|$)/;

/** A proxied call's backend (undefined: the default one) and its Triton path after `/v2`, query excluded. */
export interface InferenceRoute {
  backend: string | undefined;
  rest: string;
}

/** The inference route of a request URL, or undefined when it is not the proxy's. */
export function inferenceRoute(url: string): InferenceRoute | undefined {
  const scheme = url.indexOf('//');
  const start = url.indexOf('/', scheme < 0 ? 0 : scheme + 2);
  if (start < 0) return undefined;
  const path = url.slice(start);
  const match = INFERENCE_PATH.exec(path);
  if (!match) return undefined;
  const end = path.search(/[?#]/);
  const rest = path.slice(match[0].length, end < 0 ? undefined : end);
  const raw = match[1];
  if (raw === undefined) return { backend: undefined, rest };
  let backend = raw;
  try {
    backend = decodeURIComponent(raw);
  } catch {
    // a malformed escape stays as it came; no backend has that id
  }
  return { backend, rest };
}
