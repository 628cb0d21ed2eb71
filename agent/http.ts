import { Agent as HttpAgent, request as plainRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as tlsRequest, type AgentOptions as HttpsAgentOptions } from 'node:https';

/** A finished HTTP exchange: the status, the response headers and the whole body as text. */
export interface HttpReply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

export interface HttpCall {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string | undefined;
  agent: HttpAgent;
  timeoutMs: number;
  /** Names the call in the timeout error. */
  what: string;
}

/**
 * A keep-alive connection pool for one server. The agent speaks HTTP through node:http(s) only, not `fetch`: undici
 * (Node's fetch) costs about 10 MB of resident memory and needs WebAssembly, and the agent's budget is 64 MB.
 */
export function keepAliveAgent(url: string, tls: HttpsAgentOptions = {}): HttpAgent {
  return url.startsWith('https:')
    ? new HttpsAgent({ keepAlive: true, maxSockets: 16, ...tls })
    : new HttpAgent({ keepAlive: true, maxSockets: 16 });
}

/** One HTTP request; resolves with any status and rejects only when the server cannot be reached or times out. */
export function httpCall(call: HttpCall): Promise<HttpReply> {
  const request = call.url.protocol === 'https:' ? tlsRequest : plainRequest;
  const headers = { ...call.headers };
  if (call.body !== undefined) headers['content-length'] = String(Buffer.byteLength(call.body));
  return new Promise((resolve, reject) => {
    const req = request(call.url, { method: call.method, headers, agent: call.agent, timeout: call.timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error(`${call.what} timed out after ${call.timeoutMs} ms`)));
    req.on('error', reject);
    if (call.body !== undefined) req.write(call.body);
    req.end();
  });
}
