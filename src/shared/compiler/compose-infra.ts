import { infraKindOfImage, infraValue, type InfraInstance, type InfraKind, type InfraValue } from '../kube/infra';

/** Variable prefixes apps use for each kind (`POSTGRES_HOST`, `PG_PORT`, `REDIS_URL`, ...). */
const PREFIXES: Record<InfraKind, string[]> = {
  postgres: ['POSTGRES', 'POSTGRESQL', 'PG'],
  mysql: ['MYSQL', 'MARIADB'],
  mongodb: ['MONGO', 'MONGODB'],
  redis: ['REDIS'],
  rabbitmq: ['RABBITMQ', 'AMQP'],
  kafka: ['KAFKA'],
  minio: ['MINIO', 'S3'],
  qdrant: ['QDRANT'],
  neo4j: ['NEO4J'],
  elasticsearch: ['ELASTICSEARCH', 'ELASTIC', 'ES'],
  nats: ['NATS'],
  memcached: ['MEMCACHED'],
};

/** Suffix → what it asks for. */
const SUFFIXES: [string, InfraValue][] = [
  ['_HOST', 'host'],
  ['_HOSTNAME', 'host'],
  ['_PORT', 'port'],
  ['_ADDR', 'address'],
  ['_ADDRESS', 'address'],
  ['_URL', 'url'],
  ['_URI', 'url'],
  ['_ENDPOINT', 'url'],
];

/** Names libpq and some clients take without an underscore. */
const EXTRA: Partial<Record<InfraKind, [string, InfraValue][]>> = {
  postgres: [
    ['PGHOST', 'host'],
    ['PGPORT', 'port'],
  ],
  kafka: [['KAFKA_BOOTSTRAP_SERVERS', 'address']],
};

/**
 * The variables discovered infra answers in a compose import: for each kind with exactly one instance in the cluster
 * that the compose file does not run itself (its own `postgres:` service wins: the app keeps talking to it), the
 * host/port/address/url names above. Several instances of a kind answer nothing (which one would be a guess); the
 * request's `env` still wins over all of these.
 */
export function infraVariables(instances: readonly InfraInstance[], composeImages: readonly string[]): Record<string, string> {
  const own = new Set(composeImages.map(infraKindOfImage).filter((k): k is InfraKind => k !== undefined));
  const vars: Record<string, string> = {};
  for (const kind of Object.keys(PREFIXES) as InfraKind[]) {
    if (own.has(kind)) continue;
    const ofKind = instances.filter((i) => i.kind === kind);
    const only = ofKind[0];
    if (!only || ofKind.length > 1) continue;
    const names: [string, InfraValue][] = [
      ...PREFIXES[kind].flatMap((p) => SUFFIXES.map(([s, v]): [string, InfraValue] => [`${p}${s}`, v])),
      ...(EXTRA[kind] ?? []),
    ];
    for (const [name, value] of names) vars[name] = infraValue(kind, only.host, only.port, value);
  }
  return vars;
}
