// Well-known backing services (databases, queues, object stores): how the agent recognises them in a cluster and how a
// workload's `{"infra": ...}` env reference turns into an address. Pure and zod-free: the agent (bundled without zod),
// the compiler and the Worker import the same table.

/** The kinds of infrastructure edgeplane recognises. */
export const INFRA_KINDS = [
  'postgres',
  'mysql',
  'mongodb',
  'redis',
  'rabbitmq',
  'kafka',
  'minio',
  'qdrant',
  'neo4j',
  'elasticsearch',
  'nats',
  'memcached',
] as const;
export type InfraKind = (typeof INFRA_KINDS)[number];

interface KindInfo {
  /** Image repository names (the last path segment, without tag) that run this kind. */
  images: RegExp;
  /** The port clients use, and the port names that mark it. */
  port: number;
  portNames: RegExp;
  /** The URL scheme of `"value": "url"`; none for kinds whose clients take host:port only. */
  scheme: string | null;
  /** False when the port number alone says little (9000 is also php-fpm's and ClickHouse's): only its name counts. */
  portAlone?: false;
}

export const INFRA: Record<InfraKind, KindInfo> = {
  postgres: {
    images: /^(postgres|postgresql|postgis|timescaledb|timescaledb-ha|pgvector|cloudnative-pg)$/,
    port: 5432,
    portNames: /^(tcp-)?postgres(ql)?$/,
    scheme: 'postgresql',
  },
  mysql: { images: /^(mysql|mariadb|percona-server|mysql-server)$/, port: 3306, portNames: /^(tcp-)?(mysql|mariadb)$/, scheme: 'mysql' },
  mongodb: { images: /^(mongo|mongodb|mongodb-community-server)$/, port: 27017, portNames: /^(tcp-)?mongo(db)?$/, scheme: 'mongodb' },
  redis: {
    images: /^(redis|redis-stack|redis-stack-server|valkey|keydb|dragonfly)$/,
    port: 6379,
    portNames: /^(tcp-)?redis$/,
    scheme: 'redis',
  },
  rabbitmq: { images: /^rabbitmq$/, port: 5672, portNames: /^(tcp-)?amqp$/, scheme: 'amqp' },
  kafka: { images: /^(kafka|cp-kafka|redpanda)$/, port: 9092, portNames: /^(tcp-)?kafka(-client)?$/, scheme: null },
  minio: { images: /^minio$/, port: 9000, portNames: /^(minio|minio-api|s3)$/, scheme: 'http', portAlone: false },
  qdrant: { images: /^qdrant$/, port: 6333, portNames: /^qdrant(-http)?$/, scheme: 'http' },
  neo4j: { images: /^neo4j$/, port: 7687, portNames: /^(tcp-)?bolt$/, scheme: 'bolt' },
  elasticsearch: { images: /^(elasticsearch|opensearch)$/, port: 9200, portNames: /^(elasticsearch|es-http)$/, scheme: 'http' },
  nats: { images: /^nats$/, port: 4222, portNames: /^(tcp-)?(nats|client)$/, scheme: 'nats' },
  memcached: { images: /^memcached$/, port: 11211, portNames: /^(tcp-)?memcache(d)?$/, scheme: null },
};

/** What a workload's env reference may produce (the default is `address`). */
export const INFRA_VALUES = ['address', 'host', 'port', 'url'] as const;
export type InfraValue = (typeof INFRA_VALUES)[number];

/** One discovered (or edgeplane-deployed) instance, as the agent reports it and `GET /v1/clusters/{id}/infra` lists it. */
export interface InfraInstance {
  kind: InfraKind;
  namespace: string;
  /** The Service's name. */
  name: string;
  /** `<name>.<namespace>.svc.cluster.local` */
  host: string;
  port: number;
  /** The image of a pod behind the Service, when the agent could read pods. */
  image?: string;
  /** What recognised it: the pods' image (strongest), the Service's or pods' labels, or only the port. */
  matchedBy: 'image' | 'label' | 'port';
  /** The edgeplane workload behind it, when there is one. */
  workload?: string;
}

/** `namespace/name`: how an instance is named in references and error messages. */
export const instanceName = (i: Pick<InfraInstance, 'namespace' | 'name'>): string => `${i.namespace}/${i.name}`;

export const serviceHost = (namespace: string, name: string): string => `${name}.${namespace}.svc.cluster.local`;

/** `docker.io/bitnami/postgresql:16.2@sha256:…` → `postgresql`. */
export function imageRepository(image: string): string {
  const withoutDigest = image.split('@')[0] ?? image;
  const last = withoutDigest.split('/').pop() ?? withoutDigest;
  return (last.split(':')[0] ?? last).toLowerCase();
}

/** The kind an image runs, if it is a well-known one. */
export function infraKindOfImage(image: string): InfraKind | undefined {
  const repo = imageRepository(image);
  return INFRA_KINDS.find((k) => INFRA[k].images.test(repo));
}

/** The kind a label value names (`app.kubernetes.io/name: postgresql`, `app: redis`). */
export function infraKindOfName(value: string): InfraKind | undefined {
  const v = value.toLowerCase();
  return INFRA_KINDS.find((k) => INFRA[k].images.test(v) || v === k);
}

/** The kind a Service port marks: its name, else its number. */
export function infraKindOfPort(port: { port: number; name?: string | undefined }): InfraKind | undefined {
  const byName = port.name ? INFRA_KINDS.find((k) => INFRA[k].portNames.test(port.name ?? '')) : undefined;
  return byName ?? INFRA_KINDS.find((k) => INFRA[k].port === port.port && INFRA[k].portAlone !== false);
}

/** The string one reference produces for an instance. */
export function infraValue(kind: InfraKind, host: string, port: number, value: InfraValue): string {
  switch (value) {
    case 'host':
      return host;
    case 'port':
      return String(port);
    case 'url': {
      const scheme = INFRA[kind].scheme;
      return scheme ? `${scheme}://${host}:${port}` : `${host}:${port}`;
    }
    default:
      return `${host}:${port}`;
  }
}
