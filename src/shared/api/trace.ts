import { z } from 'zod';
import { dnsStatus } from './route';
import { urlMatch } from './match';

/** Query of GET /v1/trace. */
export const traceQuery = z.object({
  url: z.string().min(1).max(4096).describe('the URL to diagnose, e.g. https://label.example.com/api/x'),
});

/** How one link of the chain stands: `unknown` when edgeplane has no report of it yet (never invented). */
export const traceLinkStatus = z.enum(['ok', 'degraded', 'broken', 'unknown']);
export type TraceLinkStatus = z.infer<typeof traceLinkStatus>;

/** The links of the chain, in the order a request crosses them. */
export const traceLinkName = z.enum(['route', 'dns', 'rule', 'origin', 'connectors', 'workload']);
export type TraceLinkName = z.infer<typeof traceLinkName>;

/** One link of the chain from a URL to its origin. */
export const traceLink = z.object({
  link: traceLinkName,
  status: traceLinkStatus,
  summary: z.string().describe('one line for people: what edgeplane knows of this link, and what to do when it is broken'),
  suggestion: z.string().nullable().describe("the fix edgeplane or the agent suggests (e.g. the agent's origin advice), when there is one"),
});
export type TraceLink = z.infer<typeof traceLink>;

/** Response of GET /v1/trace: the whole chain as edgeplane knows it, with the first broken link named. */
export const traceResponse = z.object({
  url: z.string(),
  host: z.string(),
  path: z.string(),
  tunnel: z.string().nullable().describe('the tunnel whose routes serve the host'),
  cluster: z.string().nullable(),
  route: z.string().nullable().describe('the route behind the rule that serves the URL'),
  workload: z.string().nullable().describe('the edgeplane workload that route belongs to'),
  dns: z
    .object({
      hostname: z.string(),
      ours: z.boolean().describe('edgeplane manages the record (the route has dns: true)'),
      status: dnsStatus,
    })
    .nullable(),
  match: urlMatch.nullable().describe("the route tester's answer on the tunnel's compiled config"),
  links: z.array(traceLink),
  firstBroken: traceLinkName.nullable().describe('the first link whose status is broken, or null'),
});
export type TraceResponse = z.infer<typeof traceResponse>;
