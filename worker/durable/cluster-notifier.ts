import { DurableObject } from 'cloudflare:workers';

/**
 * One per cluster: holds the agent's notify WebSocket with the Hibernation API (an idle socket costs nothing and the
 * object sleeps) and sends `{revision}` when the cluster's desired revision changes. Level-based: the message only
 * says "revision N exists"; the agent always fetches the whole bundle.
 */
export class ClusterNotifier extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // The agent's keep-alive is answered without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'));
  }

  /** `GET /connect?revision=N` with `Upgrade: websocket`: accepts the agent's socket and tells it the current revision. */
  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname !== '/connect' || request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
      return new Response('expected a WebSocket upgrade on /connect', { status: 426 });
    }
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server);
    const revision = Number(url.searchParams.get('revision'));
    if (Number.isInteger(revision) && revision > 0) server.send(JSON.stringify({ revision }));
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Sends the new desired revision to every connected agent of this cluster; returns how many were told. */
  async notify(revision: number): Promise<number> {
    const message = JSON.stringify({ revision });
    let sent = 0;
    for (const socket of this.ctx.getWebSockets()) {
      try {
        socket.send(message);
        sent++;
      } catch {
        // A socket that died without a close frame; the runtime drops it, the agent reconnects and polls meanwhile.
      }
    }
    return sent;
  }

  override async webSocketMessage(): Promise<void> {
    // Agents only send the auto-answered "ping"; anything else is ignored.
  }

  override async webSocketClose(socket: WebSocket, code: number, reason: string): Promise<void> {
    try {
      socket.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Already closed.
    }
  }
}
