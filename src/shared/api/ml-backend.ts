import { z } from 'zod';
import { resourceMeta } from './common';
import { resourceId } from './fields';

const tensorName = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'a tensor name uses letters, digits, "_", ".", ":" and "-"');
const taskField = z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, 'a task data field such as "text" or "image"');

/**
 * How Label Studio tasks become a Triton infer call and its outputs become predictions:
 * - text-classification: `data[field]` → a BYTES input; `output.tensor` holds logits → softmax → the best choice.
 * - span-labeling: `output.tensor` holds `[N, 3]` rows of (start, end, label index) per task.
 * - object-detection: `output.tensor` holds `[N, 6]` rows of (x1, y1, x2, y2, score, label index), coordinates
 *   normalised to 0..1 of the image, per task.
 */
export const mlTask = z.enum(['text-classification', 'span-labeling', 'object-detection']);
export type MlTask = z.infer<typeof mlTask>;

const fields = {
  backend: resourceId('inference backend id'),
  model: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, 'a model name uses letters, digits, "_", "." and "-"'),
  modelVersion: z.string().max(64).nullable().describe('Triton model version; null = the server picks'),
  task: mlTask,
  input: z.strictObject({ field: taskField, tensor: tensorName }),
  output: z.strictObject({ tensor: tensorName }),
  choices: z
    .array(z.string().min(1).max(200))
    .max(1000)
    .describe('label names in the order of the model outputs, when label_config has none'),
  batch: z.boolean().describe('send all tasks of a /predict in one infer call with a batch dimension'),
  fromName: z.string().max(200).nullable().describe('the control tag name; taken from label_config when null'),
  toName: z.string().max(200).nullable().describe('the object tag name; taken from label_config when null'),
};

/** Body of POST /v1/ml-backends. */
export const mlBackendCreate = z.strictObject({
  id: resourceId('ML backend id'),
  backend: fields.backend,
  model: fields.model,
  modelVersion: fields.modelVersion.default(null),
  task: fields.task,
  input: fields.input,
  output: fields.output,
  choices: fields.choices.default([]),
  batch: fields.batch.default(true),
  fromName: fields.fromName.default(null),
  toName: fields.toName.default(null),
});
export type MlBackendCreate = z.infer<typeof mlBackendCreate>;

/** Body of PATCH /v1/ml-backends/:id. */
export const mlBackendUpdate = z.strictObject({
  backend: fields.backend.optional(),
  model: fields.model.optional(),
  modelVersion: fields.modelVersion.optional(),
  task: fields.task.optional(),
  input: fields.input.optional(),
  output: fields.output.optional(),
  choices: fields.choices.optional(),
  batch: fields.batch.optional(),
  fromName: fields.fromName.optional(),
  toName: fields.toName.optional(),
});
export type MlBackendUpdate = z.infer<typeof mlBackendUpdate>;

/** An ML backend as the API returns it; Label Studio is given `<worker>/ml/<id>`. */
export const mlBackend = z.object({
  id: z.string(),
  backend: z.string(),
  model: z.string(),
  modelVersion: z.string().nullable(),
  task: mlTask,
  input: z.object({ field: z.string(), tensor: z.string() }),
  output: z.object({ tensor: z.string() }),
  choices: z.array(z.string()),
  batch: z.boolean(),
  fromName: z.string().nullable(),
  toName: z.string().nullable(),
  ...resourceMeta,
});
export type MlBackend = z.infer<typeof mlBackend>;

/** Body Label Studio sends to /predict. */
export const lsPredictRequest = z.object({
  tasks: z.array(z.object({ id: z.union([z.number(), z.string()]).optional(), data: z.record(z.string(), z.unknown()) })).max(1000),
  project: z.unknown().optional(),
  label_config: z.string().max(1_000_000).optional(),
  params: z.record(z.string(), z.unknown()).optional(),
});
export type LsPredictRequest = z.infer<typeof lsPredictRequest>;
