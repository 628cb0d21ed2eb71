import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';

// Loopback endpoints for egress-probe tests: a TCP listener, a TLS listener with a self-signed certificate made by
// openssl for this run, a port nothing listens on, and a "silent" listener that accepts TCP but never answers (a TLS
// handshake to it times out).

export interface LoopbackTargets {
  tcpPort: number;
  tlsPort: number;
  silentPort: number;
  closedPort: number;
  /** PEM of the TLS listener's certificate (CN and SAN "localhost", IP 127.0.0.1). */
  cert: string;
  close(): Promise<void>;
}

const listen = (server: Server | TlsServer): Promise<number> =>
  new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    }),
  );

export async function startLoopbackTargets(): Promise<LoopbackTargets> {
  const dir = mkdtempSync(path.join(tmpdir(), 'probe-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  const cert = readFileSync(path.join(dir, 'cert.pem'), 'utf8');
  const key = readFileSync(path.join(dir, 'key.pem'), 'utf8');
  rmSync(dir, { recursive: true, force: true });

  const sockets = new Set<Socket>();
  const keep = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  };
  const tcp = createServer((s) => {
    keep(s);
    s.end();
  });
  const tls = createTlsServer({ cert, key }, (s) => {
    keep(s);
    s.end();
  });
  tls.on('tlsClientError', () => undefined);
  const silent = createServer(keep);
  const closed = createServer();
  const [tcpPort, tlsPort, silentPort, closedPort] = await Promise.all([listen(tcp), listen(tls), listen(silent), listen(closed)]);
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  return {
    tcpPort,
    tlsPort,
    silentPort,
    closedPort,
    cert,
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all([tcp, tls, silent].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
