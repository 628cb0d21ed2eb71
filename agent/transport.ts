import type { Agent as HttpAgent } from 'node:http';
import WebSocket from 'ws';
import type { AgentRegister, AgentStatus, DesiredBundle } from '../src/shared/api/agent';
import type { AgentDryRunRequest, AgentDryRunResult } from '../src/shared/api/cluster-dry-run';
import { ShapeError } from './check';
import { httpCall, keepAliveAgent, type HttpReply } from './http';
import { checkDesiredBundle, checkDryRunNotify, checkDryRuns, checkNotify, checkRegistered } from './protocol';

/** Full-jitter exponential backoff: a random wait in [0, min(max, base·2^attempt)]. */
export const backoff = (attempt: number, baseMs: number, maxMs: number): number =>
  Math.random() * Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20));

export type FetchOutcome =
  | { kind: 'bundle'; bundle: DesiredBundle; etag: string }
  | { kind: 'not_modified' }
  | { kind: 'unauthorized'; message: string }
  | { kind: 'unreachable'; message: string };

export type CallOutcome<T> = { ok: true; value: T } | { ok: false; status: number; message: string };

const TIMEOUT_MS = 15_000;

function errorMessage(reply: HttpReply): string {
  try {
    const body = JSON.parse(reply.text) as { error?: { message?: string } };
    return body.error?.message ?? reply.text.slice(0, 300);
  } catch {
    return reply.text.slice(0, 300) || `HTTP ${reply.status}`;
  }
}

/** The agent's outbound connection to the Worker: register, fetch the bundle, report, and the notify socket. */
export class Transport {
  /** Requests sent to the Worker, for /metrics and the idle budget. */
  requests = 0;
  private readonly agent: HttpAgent;
  private socket: WebSocket | undefined;
  private socketAttempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly backoffBaseMs: number,
    private readonly backoffMaxMs: number,
    private credential: string | undefined = undefined,
  ) {
    this.agent = keepAliveAgent(url);
  }

  setCredential(credential: string): void {
    this.credential = credential;
  }

  get notifyConnected(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** One call to the Worker; rejects only when it cannot be reached. */
  private call(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<HttpReply> {
    this.requests++;
    return httpCall({
      method,
      url: new URL(`${this.url}${path}`),
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      agent: this.agent,
      timeoutMs: TIMEOUT_MS,
      what: `${method} ${path}`,
    });
  }

  private unreachable(error: unknown): string {
    return `the Worker at ${this.url} is unreachable: ${(error as Error).message}`;
  }

  /**
   * Registers the agent's credential with the one-time bootstrap token. `replayed` when the Worker had already accepted
   * this very registration (an answer that was lost).
   */
  async register(bootstrapToken: string, body: AgentRegister): Promise<CallOutcome<{ replayed: boolean }>> {
    try {
      const reply = await this.call('POST', '/agent/v1/register', { authorization: `Bearer ${bootstrapToken}` }, body);
      if (reply.status < 200 || reply.status >= 300) return { ok: false, status: reply.status, message: errorMessage(reply) };
      checkRegistered(JSON.parse(reply.text));
      return { ok: true, value: { replayed: reply.status === 200 } };
    } catch (error) {
      if (error instanceof ShapeError || error instanceof SyntaxError)
        return { ok: false, status: 502, message: `POST /agent/v1/register answered something this agent cannot read: ${error.message}` };
      return { ok: false, status: 0, message: this.unreachable(error) };
    }
  }

  /** GET /agent/v1/desired with If-None-Match. */
  async fetchDesired(etag: string | undefined): Promise<FetchOutcome> {
    let reply: HttpReply;
    try {
      reply = await this.call('GET', '/agent/v1/desired', {
        authorization: `Bearer ${this.credential ?? ''}`,
        ...(etag ? { 'if-none-match': etag } : {}),
      });
    } catch (error) {
      return { kind: 'unreachable', message: this.unreachable(error) };
    }
    if (reply.status === 304) return { kind: 'not_modified' };
    if (reply.status === 401 || reply.status === 403) return { kind: 'unauthorized', message: errorMessage(reply) };
    if (reply.status !== 200)
      return { kind: 'unreachable', message: `GET /agent/v1/desired answered ${reply.status}: ${errorMessage(reply)}` };
    let bundle: DesiredBundle;
    try {
      bundle = checkDesiredBundle(JSON.parse(reply.text));
    } catch (error) {
      if (!(error instanceof ShapeError || error instanceof SyntaxError)) throw error;
      return { kind: 'unreachable', message: `GET /agent/v1/desired answered a bundle this agent cannot read: ${error.message}` };
    }
    const header = reply.headers.etag;
    return { kind: 'bundle', bundle, etag: typeof header === 'string' ? header : '' };
  }

  /** POST /agent/v1/status. */
  async postStatus(report: AgentStatus): Promise<CallOutcome<null>> {
    try {
      const reply = await this.call('POST', '/agent/v1/status', { authorization: `Bearer ${this.credential ?? ''}` }, report);
      if (reply.status < 200 || reply.status >= 300) return { ok: false, status: reply.status, message: errorMessage(reply) };
      return { ok: true, value: null };
    } catch (error) {
      return { ok: false, status: 0, message: this.unreachable(error) };
    }
  }

  /** GET /agent/v1/dry-runs: the plans' dry runs waiting for this cluster. */
  async fetchDryRuns(): Promise<CallOutcome<AgentDryRunRequest[]>> {
    try {
      const reply = await this.call('GET', '/agent/v1/dry-runs', { authorization: `Bearer ${this.credential ?? ''}` });
      if (reply.status !== 200) return { ok: false, status: reply.status, message: errorMessage(reply) };
      return { ok: true, value: checkDryRuns(JSON.parse(reply.text)) };
    } catch (error) {
      if (error instanceof ShapeError || error instanceof SyntaxError)
        return { ok: false, status: 502, message: `GET /agent/v1/dry-runs answered something this agent cannot read: ${error.message}` };
      return { ok: false, status: 0, message: this.unreachable(error) };
    }
  }

  /** POST /agent/v1/dry-runs/{id}: the API server's verdicts. */
  async postDryRun(id: string, result: AgentDryRunResult): Promise<CallOutcome<null>> {
    try {
      const reply = await this.call(
        'POST',
        `/agent/v1/dry-runs/${encodeURIComponent(id)}`,
        { authorization: `Bearer ${this.credential ?? ''}` },
        result,
      );
      if (reply.status < 200 || reply.status >= 300) return { ok: false, status: reply.status, message: errorMessage(reply) };
      return { ok: true, value: null };
    } catch (error) {
      return { ok: false, status: 0, message: this.unreachable(error) };
    }
  }

  /**
   * Keeps the notify WebSocket open: `onRevision` gets every `{revision}`, `onState` each connect/disconnect.
   * Reconnects with jittered backoff; the caller polls while the socket is down.
   */
  openNotify(
    onRevision: (revision: number) => void,
    onState: (connected: boolean, reason: string) => void,
    onDryRun: (id: string) => void = () => undefined,
  ): void {
    if (this.closed) return;
    const target = `${this.url.replace(/^http/, 'ws')}/agent/v1/notify`;
    const socket = new WebSocket(target, { headers: { authorization: `Bearer ${this.credential ?? ''}` }, handshakeTimeout: TIMEOUT_MS });
    this.socket = socket;
    this.requests++;
    let lastPong = Date.now();
    socket.on('open', () => {
      this.socketAttempt = 0;
      onState(true, 'connected');
      // A text ping answered by the Durable Object's auto-response: it keeps NATs open without waking the object.
      this.pingTimer = setInterval(() => {
        if (Date.now() - lastPong > 120_000) socket.terminate();
        else socket.send('ping');
      }, 45_000);
    });
    socket.on('message', (data: WebSocket.RawData) => {
      const text = data.toString();
      lastPong = Date.now();
      if (text === 'pong') return;
      let message: unknown;
      try {
        message = JSON.parse(text);
      } catch {
        return;
      }
      try {
        onRevision(checkNotify(message).revision);
        return;
      } catch {
        // Not a revision message.
      }
      try {
        onDryRun(checkDryRunNotify(message).dryRun);
      } catch {
        // Neither: ignore; the timer resync covers anything missed.
      }
    });
    socket.on('unexpected-response', (_req, res) => {
      onState(false, `notify refused with HTTP ${res.statusCode ?? 0}`);
      socket.terminate();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.pingTimer) clearInterval(this.pingTimer);
      if (this.socket === socket) this.socket = undefined;
      if (this.closed) return;
      onState(false, 'disconnected');
      const wait = backoff(this.socketAttempt++, this.backoffBaseMs, this.backoffMaxMs);
      this.reconnectTimer = setTimeout(() => this.openNotify(onRevision, onState, onDryRun), wait);
    });
  }

  close(): void {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.socket?.terminate();
    this.agent.destroy();
  }
}
