import { AppError } from '../errors';

/** Bodies up to this size are read into memory so a failed attempt can be sent again; larger ones stream once. */
export const REPLAYABLE_BODY_BYTES = 1024 * 1024;

/** A request body ready to go upstream, and what it turned out to be once sent. */
export interface OutgoingBody {
  body: ArrayBuffer | ReadableStream<Uint8Array> | null;
  /** Bytes sent so far (all of them once the upstream has answered a complete request). */
  bytes: () => number;
  /** A streamed body without Content-Length passed the limit while it was being sent: the call is answered 413. */
  overLimit: () => boolean;
  /** Aborted when a streamed body passes the limit, to cut the upstream request (see outgoingBody). */
  signal?: AbortSignal;
}

const tooLarge = (size: string, max: number, backend: string) =>
  new AppError('payload_too_large', `the request body is ${size} bytes; backend "${backend}" accepts at most ${max}`);

/**
 * Prepares a request body for the upstream without ever holding a large one whole:
 * - with Content-Length: over `max` is a 413 before anything is sent; up to 1 MiB is buffered (so it can be retried);
 *   larger streams as it came (the runtime holds it to its declared length);
 * - without (chunked): the first 1 MiB is read before anything is sent, so a body that ends there is buffered and one
 *   that passes `max` there is a clean 413 the upstream never sees. A longer body streams with a counter; past `max`
 *   it aborts `signal` before erroring the stream, so the upstream fetch is torn down and the upstream sees a
 *   connection dropped mid-body (Triton discards it). Erroring the stream alone is not enough: workerd then ends the
 *   chunked upload as if it were complete, and the upstream would get a truncated but well-formed request. The caller
 *   gets the 413 (`overLimit`).
 */
export async function outgoingBody(
  raw: ReadableStream<Uint8Array> | null,
  method: string,
  contentLength: string | undefined,
  max: number,
  backend: string,
): Promise<OutgoingBody> {
  if (raw === null || method === 'GET' || method === 'HEAD') return { body: null, bytes: () => 0, overLimit: () => false };
  if (contentLength !== undefined) {
    const declared = Number(contentLength);
    if (declared > max) throw tooLarge(String(declared), max, backend);
    const body = declared <= REPLAYABLE_BODY_BYTES ? await new Response(raw).arrayBuffer() : raw;
    return { body, bytes: () => declared, overLimit: () => false };
  }

  const reader = raw.getReader();
  const head: Uint8Array[] = [];
  let seen = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      const whole = new Uint8Array(seen);
      let at = 0;
      for (const chunk of head) {
        whole.set(chunk, at);
        at += chunk.byteLength;
      }
      return { body: whole.buffer, bytes: () => seen, overLimit: () => false };
    }
    seen += value.byteLength;
    if (seen > max) {
      await reader.cancel();
      throw tooLarge(`over ${max}`, max, backend);
    }
    head.push(value);
    if (seen > REPLAYABLE_BODY_BYTES) break;
  }

  // The rest streams: what was read first, then the remainder, counted and cut past the limit.
  let over = false;
  const cut = new AbortController();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const first = head.shift();
      if (first) return controller.enqueue(first);
      const { done, value } = await reader.read();
      if (done) return controller.close();
      seen += value.byteLength;
      if (seen > max) {
        over = true;
        const error = tooLarge(`over ${max}`, max, backend);
        cut.abort(error);
        controller.error(error);
        await reader.cancel();
        return;
      }
      controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return { body, bytes: () => seen, overLimit: () => over, signal: cut.signal };
}
