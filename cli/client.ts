import type { ErrorDetail, ErrorEnvelope } from '../src/shared/api/common';

/** An API error: the envelope's code, message and field details, with the HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
  }
}

/** A response body with the ETag the Worker sent (what If-Match needs back). */
export interface Answer<T> {
  status: number;
  body: T;
  etag: string | null;
}

export interface RequestOptions {
  body?: unknown;
  ifMatch?: string;
  query?: Record<string, string | undefined>;
}

/** Calls the edgeplane API with a bearer token; every failure becomes an ApiError with the envelope's words. */
export class Client {
  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<Answer<T>> {
    const target = new URL(path, this.url.endsWith('/') ? this.url : `${this.url}/`);
    for (const [name, value] of Object.entries(options.query ?? {})) if (value !== undefined) target.searchParams.set(name, value);
    let response: Response;
    try {
      response = await fetch(target, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          accept: 'application/json',
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(options.ifMatch ? { 'if-match': options.ifMatch } : {}),
        },
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      });
    } catch (error) {
      throw new ApiError(0, 'unreachable', `cannot reach ${this.url}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const text = await response.text();
    if (!response.ok) throw errorOf(response.status, text);
    const type = response.headers.get('content-type') ?? '';
    const body = (text && type.includes('json') ? JSON.parse(text) : text) as T;
    return { status: response.status, body, etag: response.headers.get('etag') };
  }

  /** Every item of a cursor-paged list. */
  async list<T>(path: string, query: Record<string, string | undefined> = {}): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.request<{ items: T[]; nextCursor: string | null }>('GET', path, {
        query: { ...query, limit: '500', cursor },
      });
      items.push(...page.body.items);
      cursor = page.body.nextCursor ?? undefined;
    } while (cursor);
    return items;
  }
}

function errorOf(status: number, text: string): ApiError {
  try {
    const { error } = JSON.parse(text) as ErrorEnvelope;
    return new ApiError(status, error.code, error.message, error.details ?? []);
  } catch {
    return new ApiError(status, 'http_error', `HTTP ${status}: ${text.slice(0, 300)}`);
  }
}
