import { lookup } from 'node:dns/promises';
import { connect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { ProbeErrorKind, ProbeOutcome } from '../src/shared/api/probe';

/** One target of the `probe` subcommand, as the agent puts it in the Job (the bundle's probe target). */
export interface ProbeTargetSpec {
  host: string;
  port: number;
  tls: boolean;
  tlsVerify: boolean;
  serverName?: string | undefined;
}

/** Pod termination messages are cut at 4096 bytes by the kubelet; stay under it with room to spare. */
export const TERMINATION_MESSAGE_LIMIT = 4000;

const DNS_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NODATA',
  'EAI_NONAME',
  'ENODATA',
  'ESERVFAIL',
  'ENOTIMP',
  'EREFUSED',
]);

function kindOf(code: string | undefined): ProbeErrorKind {
  if (code === 'ECONNREFUSED') return 'refused';
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EHOSTDOWN' || code === 'ENETDOWN') return 'unreachable';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'reset';
  if (code === 'ETIMEDOUT') return 'timeout';
  return 'error';
}

const failure = (kind: ProbeErrorKind, message: string, started: number, address?: string): ProbeOutcome => ({
  ok: false,
  ms: Math.round(performance.now() - started),
  ...(address ? { address } : {}),
  error: { kind, message: message.slice(0, 300) },
});

/** Resolves, connects and (optionally) completes a TLS handshake within `timeoutMs` in all. */
export async function probeTarget(target: ProbeTargetSpec, timeoutMs: number): Promise<ProbeOutcome> {
  const started = performance.now();
  const deadline = started + timeoutMs;
  const left = () => Math.max(1, Math.round(deadline - performance.now()));

  // DNS as the node's pods see it (getaddrinfo: /etc/hosts, the pod's resolv.conf and search domains).
  let address: string;
  let family: number;
  if (isIP(target.host)) {
    address = target.host;
    family = isIP(target.host);
  } else {
    let timer: NodeJS.Timeout | undefined;
    try {
      const found = await Promise.race([
        lookup(target.host),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(Object.assign(new Error('no answer'), { code: 'DNS_TIMEOUT' })), left());
        }),
      ]);
      address = found.address;
      family = found.family;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'DNS_TIMEOUT') return failure('dns', `${target.host}: no DNS answer within ${timeoutMs} ms`, started);
      const what = code === 'ENOTFOUND' ? 'no such name' : code && DNS_CODES.has(code) ? code : (error as Error).message;
      return failure('dns', `${target.host}: ${what}`, started);
    } finally {
      clearTimeout(timer);
    }
  }

  const socket = await new Promise<Socket | ProbeOutcome>((resolve) => {
    const s = connect({ host: address, port: target.port, family });
    const timer = setTimeout(() => {
      s.destroy();
      resolve(failure('timeout', `TCP connect to ${address}:${target.port}: no answer within ${timeoutMs} ms`, started, address));
    }, left());
    s.once('connect', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      s.destroy();
      resolve(failure(kindOf(error.code), `TCP connect to ${address}:${target.port}: ${error.code ?? error.message}`, started, address));
    });
  });
  if (!('write' in socket)) return socket;
  if (!target.tls) {
    socket.destroy();
    return { ok: true, ms: Math.round(performance.now() - started), address };
  }

  const servername = target.serverName ?? (isIP(target.host) ? undefined : target.host);
  return new Promise<ProbeOutcome>((resolve) => {
    const secure = tlsConnect({ socket, ...(servername ? { servername } : {}), rejectUnauthorized: target.tlsVerify });
    const done = (outcome: ProbeOutcome) => {
      clearTimeout(timer);
      secure.destroy();
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(
      () => done(failure('timeout', `TLS handshake with ${address}:${target.port}: no answer within ${timeoutMs} ms`, started, address)),
      left(),
    );
    secure.once('secureConnect', () => done({ ok: true, ms: Math.round(performance.now() - started), address }));
    secure.once('error', (error: NodeJS.ErrnoException) => {
      const kind = error.code === 'ECONNRESET' ? 'tls' : error.code && kindOf(error.code) !== 'error' ? kindOf(error.code) : 'tls';
      done(failure(kind, `TLS handshake with ${address}:${target.port}: ${error.message}`, started, address));
    });
  });
}

/** Probes every target at once (a probe has at most 20), keeping target order. */
export const probeAll = (targets: ProbeTargetSpec[], timeoutMs: number): Promise<ProbeOutcome[]> =>
  Promise.all(targets.map((t) => probeTarget(t, timeoutMs)));

/**
 * The termination message: `{"v":1,"outcomes":[...]}` within the kubelet's limit. Error messages are shortened step by
 * step until it fits (20 targets with long TLS errors would not).
 */
export function encodeOutcomes(outcomes: ProbeOutcome[]): string {
  for (const max of [300, 160, 80, 40, 0]) {
    const text = JSON.stringify({
      v: 1,
      outcomes: outcomes.map((o) => (o.error ? { ...o, error: { kind: o.error.kind, message: o.error.message.slice(0, max) } } : o)),
    });
    if (Buffer.byteLength(text) <= TERMINATION_MESSAGE_LIMIT) return text;
  }
  return JSON.stringify({
    v: 1,
    outcomes: outcomes.map((o) => ({ ok: o.ok, ...(o.error ? { error: { kind: o.error.kind, message: '' } } : {}) })),
  });
}
