// Which requests the Worker's fetch sends to the inference proxy's own app (createInferenceApp in app.ts).

/** `/v2`, `/v2/...`, `/inference/<backend>/v2` and below: the paths createInferenceApp serves. */
const INFERENCE_PATH = /^\/(?:v2|inference\/[^/?#]+\/v2)(?:[/?#]|$)/;

/** Whether a request URL's path is the inference proxy's, read without parsing the whole URL. */
export function isInferencePath(url: string): boolean {
  const scheme = url.indexOf('//');
  const path = url.indexOf('/', scheme < 0 ? 0 : scheme + 2);
  return path >= 0 && INFERENCE_PATH.test(url.slice(path, path + 256));
}
