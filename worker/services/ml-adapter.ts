import type { LsPredictRequest } from '../../src/shared/api';
import type { CachedBackend } from './inference-cache';
import { forward } from './inference-forward';
import type { MlBackendRow } from './ml-backends';
import { inferBody, outputOf, type Prediction, taskInputs, toPrediction } from './ml-predict';

/** What /predict needs: the ML backend, its inference backend (credentials decrypted), and a logger for failed tasks. */
export interface AdapterDeps {
  ml: MlBackendRow;
  backend: CachedBackend;
  log: (entry: Record<string, unknown>) => void;
}

/** The model version reported to Label Studio: `<model>@<version>` (`latest` when Triton picks). */
export const modelVersionOf = (ml: Pick<MlBackendRow, 'model' | 'modelVersion'>): string => `${ml.model}@${ml.modelVersion ?? 'latest'}`;

const emptyPrediction = (modelVersion: string): Prediction => ({ result: [], score: 0, model_version: modelVersion });

/**
 * Label Studio's /predict: the tasks' input fields go to Triton in one batched infer call (or one call per task when
 * the backend does not batch), and each task gets one prediction, in task order. A task that cannot be sent or whose
 * output is unusable gets an empty result and its reason is logged; a task is never dropped.
 */
export async function predict(deps: AdapterDeps, request: LsPredictRequest): Promise<{ results: Prediction[]; model_version: string }> {
  const { ml } = deps;
  const modelVersion = modelVersionOf(ml);
  const inputs = taskInputs(ml, request.tasks);
  const results: Prediction[] = request.tasks.map(() => emptyPrediction(modelVersion));
  const fail = (i: number, reason: string) => deps.log({ mlBackend: ml.id, task: request.tasks[i]?.id ?? i, reason });
  inputs.forEach((input, i) => {
    if (!input.ok) fail(i, input.reason);
  });
  const sendable = inputs.flatMap((input, i) => (input.ok ? [{ i, value: input.value }] : []));
  const groups = ml.batch ? (sendable.length > 0 ? [sendable] : []) : sendable.map((s) => [s]);
  const path = `/v2/models/${encodeURIComponent(ml.model)}${ml.modelVersion ? `/versions/${encodeURIComponent(ml.modelVersion)}` : ''}/infer`;
  await Promise.all(
    groups.map(async (group) => {
      try {
        const body = await new Response(
          inferBody(
            ml,
            group.map((g) => g.value),
          ),
        ).arrayBuffer();
        const { response } = await forward(
          { ...deps.backend.row, authHeaders: deps.backend.authHeaders },
          { method: 'POST', path, headers: new Headers({ 'content-type': 'application/json' }), body, repeatable: true },
        );
        const text = await response.text();
        if (!response.ok) throw new Error(`Triton answered ${response.status}: ${text.slice(0, 500)}`);
        const output = outputOf(JSON.parse(text), ml.output.tensor);
        group.forEach((g, k) => {
          try {
            results[g.i] = toPrediction(ml, request.label_config, output, k, g.value, modelVersion);
          } catch (error) {
            fail(g.i, error instanceof Error ? error.message : String(error));
          }
        });
      } catch (error) {
        for (const g of group) fail(g.i, error instanceof Error ? error.message : String(error));
      }
    }),
  );
  return { results, model_version: modelVersion };
}
