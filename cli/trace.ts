import type { TraceResponse } from '../src/shared/api/trace';

const MARK = { ok: 'ok', degraded: 'degraded', broken: 'BROKEN', unknown: 'not known' } as const;

/** The chain as lines a person reads top to bottom, the first broken link flagged. */
export function renderTrace(answer: TraceResponse): string {
  const lines = [`${answer.url}  (host ${answer.host}, path ${answer.path})`];
  for (const l of answer.links) {
    const first = l.link === answer.firstBroken ? '  <- first broken link' : '';
    lines.push(`  ${l.link.padEnd(10)} ${MARK[l.status].padEnd(9)} ${l.summary}${first}`);
    if (l.suggestion && l.status !== 'ok') lines.push(`  ${''.padEnd(10)} ${''.padEnd(9)} fix: ${l.suggestion}`);
  }
  lines.push(answer.firstBroken ? `first broken link: ${answer.firstBroken}` : 'no broken link');
  return lines.join('\n');
}
