import WebSocket from 'ws';
import {
  agentRegistered,
  desiredBundle,
  notifyMessage,
  type AgentRegister,
  type AgentStatus,
  type DesiredBundle,
} from '../src/shared/api/agent';

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

async function errorMessage(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { message?: string } };
    return body.error?.message ?? text.slice(0, 300);
  } catch {
    return text.slice(0, 300) || response.statusText;
  }
}

/** The agent's outbound connection to the Worker: register, fetch the bundle, report, and the notify socket. */
export class Transport {
  /** Requests sent to the Worker, for /metrics and the idle budget. */
  requests = 0;
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
  ) {}

  setCredential(credential: string): void {
    this.credential = credential;
  }

  get notifyConnected(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** Exchanges the one-time bootstrap token for the cluster credential. */
  async register(bootstrapToken: string, body: AgentRegister): Promise<CallOutcome<{ credential: string; pollIntervalSeconds: number }>> {
    try {
      this.requests++;
      const response = await fetch(`${this.url}/agent/v1/register`, {
        method: 'POST',
        headers: { authorization: `Bearer ${bootstrapToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      if (!response.ok) return { ok: false, status: response.status, message: await errorMessage(response) };
      const parsed = agentRegistered.parse(await response.json());
      return { ok: true, value: { credential: parsed.credential, pollIntervalSeconds: parsed.pollIntervalSeconds } };
    } catch (error) {
      return { ok: false, status: 0, message: `the Worker at ${this.url} is unreachable: ${(error as Error).message}` };
    }
  }

  /** GET /agent/v1/desired with If-None-Match. */
  async fetchDesired(etag: string | undefined): Promise<FetchOutcome> {
    try {
      this.requests++;
      const response = await fetch(`${this.url}/agent/v1/desired`, {
        headers: { authorization: `Bearer ${this.credential ?? ''}`, ...(etag ? { 'if-none-match': etag } : {}) },
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      if (response.status === 304) return { kind: 'not_modified' };
      if (response.status === 401 || response.status === 403) return { kind: 'unauthorized', message: await errorMessage(response) };
      if (!response.ok)
        return { kind: 'unreachable', message: `GET /agent/v1/desired answered ${response.status}: ${await errorMessage(response)}` };
      const bundle = desiredBundle.parse(await response.json());
      return { kind: 'bundle', bundle, etag: response.headers.get('etag') ?? '' };
    } catch (error) {
      return { kind: 'unreachable', message: `the Worker at ${this.url} is unreachable: ${(error as Error).message}` };
    }
  }

  /** POST /agent/v1/status. */
  async postStatus(report: AgentStatus): Promise<CallOutcome<null>> {
    try {
      this.requests++;
      const response = await fetch(`${this.url}/agent/v1/status`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.credential ?? ''}`, 'content-type': 'application/json' },
        body: JSON.stringify(report),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      if (!response.ok) return { ok: false, status: response.status, message: await errorMessage(response) };
      await response.body?.cancel();
      return { ok: true, value: null };
    } catch (error) {
      return { ok: false, status: 0, message: `the Worker at ${this.url} is unreachable: ${(error as Error).message}` };
    }
  }

  /**
   * Keeps the notify WebSocket open: `onRevision` gets every `{revision}`, `onState` each connect/disconnect.
   * Reconnects with jittered backoff; the caller polls while the socket is down.
   */
  openNotify(onRevision: (revision: number) => void, onState: (connected: boolean, reason: string) => void): void {
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
      try {
        const message = notifyMessage.safeParse(JSON.parse(text));
        if (message.success) onRevision(message.data.revision);
      } catch {
        // Not JSON: ignore; the timer resync covers anything missed.
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
      this.reconnectTimer = setTimeout(() => this.openNotify(onRevision, onState), wait);
    });
  }

  close(): void {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.socket?.terminate();
  }
}
