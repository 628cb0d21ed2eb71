import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

// Checks every request the fake receives against the trimmed Cloudflare contract in test/fixtures/cloudflare-api,
// exempting only the schema defects listed in that folder's README (numbered the same way below).

type Schema = Record<string, unknown>;

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}

interface Operation {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> };
}

/** One operation of the contract, ready to match and validate requests. */
export interface ContractOperation {
  method: string;
  template: string;
  operationId: string;
  pattern: RegExp;
  pathNames: string[];
  validatePath: ValidateFunction;
  validateQuery: ValidateFunction;
  validateBody: ValidateFunction | undefined;
  bodyRequired: boolean;
}

/** A request that matched an operation, with its decoded path parameters. */
export interface MatchedRequest {
  operation: ContractOperation;
  params: Record<string, string>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURE = path.resolve(here, '../../fixtures/cloudflare-api/openapi-subset.json');

const clone = <T>(value: T): T => structuredClone(value);

/** Defect 1: the catch-all rule has no hostname, so `hostname` cannot be required of every rule. */
function patchTunnelConfig(schema: Schema): Schema {
  const patched = clone(schema);
  const items = (((patched.properties as Schema | undefined)?.config as Schema | undefined)?.properties as Schema | undefined)?.ingress as
    Schema | undefined;
  const rule = items?.items as Schema | undefined;
  if (rule && Array.isArray(rule.required)) rule.required = (rule.required as string[]).filter((r) => r !== 'hostname');
  return patched;
}

/** Defect 2: DNS bodies reuse the response record (id, proxiable, created_on, modified_on required); PATCH is partial. */
function patchDnsBody(schema: Schema, partial: boolean): Schema {
  const patched = clone(schema);
  delete patched.required;
  const branches = (patched.oneOf as Schema[] | undefined) ?? [];
  if (partial) {
    for (const branch of branches) delete branch.required;
    patched.anyOf = branches;
    delete patched.oneOf;
  }
  return patched;
}

/** Defect 6: split-tunnel items are `{address | host, description?}`, not `required: [address, description]`. */
function patchSplitTunnel(schema: Schema): Schema {
  const patched = clone(schema);
  const items = patched.items as Schema | undefined;
  if (items) {
    delete items.required;
    items.oneOf = [
      { required: ['address'], not: { required: ['host'] } },
      { required: ['host'], not: { required: ['address'] } },
    ];
  }
  return patched;
}

function bodySchemaFor(method: string, template: string, schema: Schema): Schema {
  if (template.endsWith('/configurations') && method === 'put') return patchTunnelConfig(schema);
  if (template.startsWith('/zones/{zone_id}/dns_records') && (method === 'post' || method === 'patch'))
    return patchDnsBody(schema, method === 'patch');
  if (/\/devices\/policy(\/\{policy_id\})?\/(include|exclude)$/.test(template) && method === 'put') return patchSplitTunnel(schema);
  return schema;
}

function parametersSchema(parameters: Parameter[], where: 'path' | 'query'): Schema {
  const selected = parameters.filter((p) => p.in === where);
  return {
    type: 'object',
    properties: Object.fromEntries(selected.map((p) => [p.name, p.schema ?? {}])),
    required: selected.filter((p) => p.required).map((p) => p.name),
    // An undeclared query parameter is a request the real API may ignore or reject: either way it is our bug.
    additionalProperties: false,
  };
}

/** Loads the contract once and compiles a validator per operation. */
export function loadContract(): ContractOperation[] {
  const document = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { paths: Record<string, Record<string, unknown>> };
  // Defect 4: readOnly is an annotation here (ajv does not reject readOnly properties in requests).
  const bodies = new Ajv({ strict: false, allErrors: true });
  const params = new Ajv({ strict: false, allErrors: true, coerceTypes: true });
  addFormats(bodies);
  addFormats(params);
  const operations: ContractOperation[] = [];
  for (const [template, item] of Object.entries(document.paths)) {
    const shared = (item.parameters as Parameter[] | undefined) ?? [];
    for (const [method, value] of Object.entries(item)) {
      if (method === 'parameters') continue;
      const op = value as Operation;
      const parameters = [...shared, ...(op.parameters ?? [])];
      const pathNames = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '');
      const pattern = new RegExp(`^${template.replace(/[.]/g, '\\.').replace(/\{\w+\}/g, '([^/]+)')}$`);
      const bodySchema = op.requestBody?.content?.['application/json']?.schema;
      operations.push({
        method: method.toUpperCase(),
        template,
        operationId: op.operationId,
        pattern,
        pathNames,
        validatePath: params.compile(parametersSchema(parameters, 'path')),
        validateQuery: params.compile(parametersSchema(parameters, 'query')),
        validateBody: bodySchema ? bodies.compile(bodySchemaFor(method, template, bodySchema)) : undefined,
        // Defect 5: DELETE operations declare a required body that the SDK (rightly) never sends.
        bodyRequired: method !== 'delete' && op.requestBody?.required === true,
      });
    }
  }
  return operations;
}

/** Finds the operation a method and path (below /client/v4) belong to. */
export function matchOperation(operations: ContractOperation[], method: string, pathname: string): MatchedRequest | undefined {
  // Prefer the template with the fewest parameters: `/devices/policy/include` before `/devices/policy/{policy_id}`.
  const candidates = operations
    .filter((o) => o.method === method)
    .map((o) => ({ o, m: o.pattern.exec(pathname) }))
    .filter((c) => c.m !== null)
    .sort((a, b) => a.o.pathNames.length - b.o.pathNames.length);
  const best = candidates[0];
  if (!best?.m) return undefined;
  const params: Record<string, string> = {};
  best.o.pathNames.forEach((name, i) => {
    params[name] = decodeURIComponent(best.m?.[i + 1] ?? '');
  });
  return { operation: best.o, params };
}

const describe = (where: string, errors: ErrorObject[] | null | undefined): string[] =>
  (errors ?? [])
    .slice(0, 5)
    .map((e) => `${where}${e.instancePath} ${e.message ?? 'is invalid'}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);

/** Checks a request against its operation; returns the problems (empty when it conforms). */
export function checkRequest(match: MatchedRequest, query: Record<string, string>, body: unknown, hasBody: boolean): string[] {
  const { operation } = match;
  const problems: string[] = [];
  const pathParams = { ...match.params };
  if (!operation.validatePath(pathParams)) problems.push(...describe('path', operation.validatePath.errors));
  const queryParams: Record<string, unknown> = { ...query };
  if (!operation.validateQuery(queryParams)) problems.push(...describe('query', operation.validateQuery.errors));
  if (hasBody) {
    if (!operation.validateBody) problems.push('body: this operation takes no request body');
    else if (!operation.validateBody(body)) problems.push(...describe('body', operation.validateBody.errors));
  } else if (operation.bodyRequired) problems.push('body: a JSON request body is required');
  if (hasBody && operation.template.endsWith('/configurations') && operation.method === 'PUT') problems.push(...checkIngress(body));
  return problems;
}

/** Defect 1, enforced by hand: every rule but the last has a hostname; the last has neither hostname nor path. */
function checkIngress(body: unknown): string[] {
  const ingress = (body as { config?: { ingress?: { hostname?: unknown; path?: unknown }[] } } | null)?.config?.ingress;
  if (!Array.isArray(ingress) || ingress.length === 0) return [];
  const problems: string[] = [];
  ingress.forEach((rule, i) => {
    const last = i === ingress.length - 1;
    if (last && (rule.hostname !== undefined || rule.path !== undefined)) {
      problems.push('body/config/ingress: The last ingress rule must match all URLs (i.e. it should not have a hostname or path filter)');
    }
    if (!last && typeof rule.hostname !== 'string') problems.push(`body/config/ingress/${i} must have required property 'hostname'`);
  });
  return problems;
}
