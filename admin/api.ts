import type { ErrorDetail, ErrorEnvelope } from '../src/shared/api/common';

/** The error body of the API's envelope. */
export type ApiErrorBody = ErrorEnvelope['error'];

/** A non-2xx answer of the API, with its envelope. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    super(body.message);
  }
  get details(): ErrorDetail[] {
    return this.body.details ?? [];
  }
}

/** One page of a list endpoint. */
export interface ListPage<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * How the console authenticates: behind Cloudflare Access the browser sends nothing itself (Access adds its assertion
 * to every request), with the dev login a bearer token from this tab's sessionStorage.
 */
export interface Session {
  mode: 'access' | 'token';
  token(): string | null;
  /** Called on a 401: the session is over. */
  unauthorized(message: string): void;
}

export interface CallOptions {
  body?: unknown;
  etag?: string;
}

/** The /v1 API as the console calls it. */
export interface Api {
  call<T>(method: string, path: string, options?: CallOptions): Promise<T>;
  /** Every item of a list endpoint (follows nextCursor). */
  list<T>(path: string): Promise<T[]>;
}

export function createApi(session: Session): Api {
  async function call<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
    const headers: Record<string, string> = {};
    const token = session.mode === 'token' ? session.token() : null;
    if (token) headers.authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.etag) headers['if-match'] = options.etag;
    const response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    if (response.status === 204) return undefined as T;
    const data: unknown = await response.json().catch(() => null);
    if (response.ok) return data as T;
    const envelope = data as Partial<ErrorEnvelope> | null;
    const body: ApiErrorBody = envelope?.error ?? {
      code: 'internal_error',
      message: `${method} ${path} answered ${response.status}`,
      requestId: '',
    };
    if (response.status === 401) session.unauthorized(body.message);
    throw new ApiError(response.status, body);
  }

  async function list<T>(path: string): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `${path.includes('?') ? '&' : '?'}limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page: ListPage<T> = await call<ListPage<T>>('GET', path + query);
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return items;
  }

  return { call, list };
}

/** The message of any thrown value. */
export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
