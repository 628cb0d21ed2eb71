import type { LsPredictRequest } from '../../src/shared/api';
import { findControl } from './ml-label-config';
import type { MlBackendRow } from './ml-backends';

/** One Label Studio prediction: the regions for one task, in task order. */
export interface Prediction {
  result: Record<string, unknown>[];
  score: number;
  model_version: string;
}

/** A Triton output tensor as JSON (`binary_data: false`). */
interface OutputTensor {
  name: string;
  shape: number[];
  data: unknown[];
}

/** A task's input value, or why the task cannot be sent. */
type TaskInput = { ok: true; value: string } | { ok: false; reason: string };

/** Reads the configured data field of each task; a missing or non-text field fails only that task. */
export function taskInputs(backend: Pick<MlBackendRow, 'input'>, tasks: LsPredictRequest['tasks']): TaskInput[] {
  return tasks.map((task) => {
    const value = task.data[backend.input.field];
    if (typeof value === 'string') return { ok: true, value };
    if (typeof value === 'number') return { ok: true, value: String(value) };
    return { ok: false, reason: `task data has no text field "${backend.input.field}"` };
  });
}

/** The infer request body for a batch of task values: one BYTES input of shape [n, 1], JSON outputs. */
export function inferBody(backend: Pick<MlBackendRow, 'input' | 'output'>, values: string[]): string {
  return JSON.stringify({
    inputs: [{ name: backend.input.tensor, datatype: 'BYTES', shape: [values.length, 1], data: values }],
    outputs: [{ name: backend.output.tensor, parameters: { binary_data: false } }],
  });
}

/** Picks the named output from a Triton infer response, or says what is wrong with it. */
export function outputOf(response: unknown, name: string): OutputTensor {
  const outputs = (response as { outputs?: unknown } | null)?.outputs;
  const found = Array.isArray(outputs) ? (outputs as OutputTensor[]).find((o) => o?.name === name) : undefined;
  if (!found || !Array.isArray(found.shape) || !Array.isArray(found.data)) {
    throw new Error(`the infer response has no JSON output "${name}"`);
  }
  return found;
}

const softmax = (logits: number[]): number[] => {
  const max = Math.max(...logits);
  const exps = logits.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((v) => v / sum);
};

/** The rows of task `i` in a batched output: everything after the batch dimension, flattened. */
function rowsOf(output: OutputTensor, i: number): number[] {
  const per = output.shape.slice(1).reduce((a, b) => a * b, 1);
  const rows = output.data.slice(i * per, (i + 1) * per);
  // JSON has no NaN or Infinity: a model that produced one sends null, which must not read as 0.
  if (rows.length < per || rows.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
    throw new Error(`output "${output.name}" has no finite numbers for this task`);
  }
  return rows as number[];
}

/**
 * Turns task `i`'s slice of the output into Label Studio regions. Label names come from the project's label_config,
 * else the backend's `choices`; a class index with no name becomes `class_<n>`. Throws when the output is unusable.
 */
export function toPrediction(
  backend: Pick<MlBackendRow, 'task' | 'choices' | 'fromName' | 'toName'>,
  labelConfig: string | undefined,
  output: OutputTensor,
  i: number,
  text: string,
  modelVersion: string,
): Prediction {
  const control = findControl(labelConfig, backend.task);
  const labels = control && control.labels.length > 0 ? control.labels : backend.choices;
  const fromName = backend.fromName ?? control?.fromName ?? 'label';
  const toName = backend.toName ?? control?.toName ?? (backend.task === 'object-detection' ? 'image' : 'text');
  const label = (index: number) => labels[index] ?? `class_${index}`;
  const rows = rowsOf(output, i);
  const region = (type: string, value: Record<string, unknown>, score?: number) => ({
    from_name: fromName,
    to_name: toName,
    type,
    value,
    ...(score === undefined ? {} : { score }),
  });

  if (backend.task === 'text-classification') {
    const probabilities = softmax(rows);
    const best = probabilities.indexOf(Math.max(...probabilities));
    const score = probabilities[best] ?? 0;
    return { result: [region('choices', { choices: [label(best)] }, score)], score, model_version: modelVersion };
  }
  if (backend.task === 'span-labeling') {
    const result = [];
    for (let r = 0; r + 2 < rows.length; r += 3) {
      const [start = -1, end = -1, index = -1] = rows.slice(r, r + 3);
      if (start < 0 || end <= start) continue;
      result.push(region('labels', { start, end, text: text.slice(start, end), labels: [label(index)] }));
    }
    return { result, score: result.length > 0 ? 1 : 0, model_version: modelVersion };
  }
  const result = [];
  let total = 0;
  for (let r = 0; r + 5 < rows.length; r += 6) {
    const [x1 = 0, y1 = 0, x2 = 0, y2 = 0, score = 0, index = 0] = rows.slice(r, r + 6);
    if (x2 <= x1 || y2 <= y1) continue;
    total += score;
    result.push(
      region(
        'rectanglelabels',
        { x: x1 * 100, y: y1 * 100, width: (x2 - x1) * 100, height: (y2 - y1) * 100, rotation: 0, rectanglelabels: [label(index)] },
        score,
      ),
    );
  }
  return { result, score: result.length > 0 ? total / result.length : 0, model_version: modelVersion };
}
