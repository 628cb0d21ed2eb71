import type { AgentDryRunRequest, DryRunObject } from '../../src/shared/api/cluster-dry-run';
import { objectKey } from '../../src/shared/kube/object-key';

/** The identity part of a fake agent's verdict on one object of a dry run request (the outcome is the test's). */
export function verdictBase(
  o: AgentDryRunRequest['objects'][number],
): Pick<DryRunObject, 'key' | 'apiVersion' | 'kind' | 'namespace' | 'name'> {
  return { key: objectKey(o), apiVersion: o.apiVersion, kind: o.kind, namespace: o.metadata.namespace ?? null, name: o.metadata.name };
}
