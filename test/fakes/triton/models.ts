// Models of the fake Triton server: enough to exercise JSON and binary tensors, batching and the Label Studio mappings.

/** A tensor as it travels in Triton's JSON: name, datatype, shape and flat data. */
export interface Tensor {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
}

export interface FakeModel {
  name: string;
  inputs: { name: string; datatype: string; shape: number[] }[];
  outputs: { name: string; datatype: string; shape: number[] }[];
  maxBatchSize: number;
  run: (inputs: Map<string, Tensor | Buffer>) => { outputs: Tensor[] } | { error: string };
}

const sentiment = (text: string): number[] => {
  const t = text.toLowerCase();
  if (t.includes('fail')) return [Number.NaN, 0, 0];
  if (t.includes('great') || t.includes('good')) return [0.1, 0.2, 2.5];
  if (t.includes('bad') || t.includes('awful')) return [3, 0.5, 0.1];
  return [0.2, 1.8, 0.3];
};

const textsOf = (input: Tensor | Buffer | undefined): string[] | undefined =>
  input && !Buffer.isBuffer(input) ? input.data.map((d) => String(d)) : undefined;

export const MODELS: FakeModel[] = [
  {
    // Triton's own example model "simple": OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1.
    name: 'simple',
    inputs: [
      { name: 'INPUT0', datatype: 'INT32', shape: [-1, 16] },
      { name: 'INPUT1', datatype: 'INT32', shape: [-1, 16] },
    ],
    outputs: [
      { name: 'OUTPUT0', datatype: 'INT32', shape: [-1, 16] },
      { name: 'OUTPUT1', datatype: 'INT32', shape: [-1, 16] },
    ],
    maxBatchSize: 8,
    run: (inputs) => {
      const a = inputs.get('INPUT0');
      const b = inputs.get('INPUT1');
      if (!a || !b || Buffer.isBuffer(a) || Buffer.isBuffer(b)) return { error: "expected 2 inputs but got 0 inputs for model 'simple'" };
      const x = a.data.map(Number);
      const y = b.data.map(Number);
      return {
        outputs: [
          { name: 'OUTPUT0', datatype: 'INT32', shape: a.shape, data: x.map((v, i) => v + (y[i] ?? 0)) },
          { name: 'OUTPUT1', datatype: 'INT32', shape: a.shape, data: x.map((v, i) => v - (y[i] ?? 0)) },
        ],
      };
    },
  },
  {
    // Echoes a binary UINT8 tensor: the byte-exactness and 64 MB streaming model.
    name: 'echo',
    inputs: [{ name: 'RAW', datatype: 'UINT8', shape: [-1] }],
    outputs: [{ name: 'RAW_OUT', datatype: 'UINT8', shape: [-1] }],
    maxBatchSize: 0,
    run: () => ({ error: 'echo is handled by the server' }),
  },
  {
    name: 'text_cls',
    inputs: [{ name: 'TEXT', datatype: 'BYTES', shape: [-1, 1] }],
    outputs: [{ name: 'LOGITS', datatype: 'FP32', shape: [-1, 3] }],
    maxBatchSize: 64,
    run: (inputs) => {
      const texts = textsOf(inputs.get('TEXT'));
      if (!texts) return { error: "input 'TEXT' is missing" };
      return { outputs: [{ name: 'LOGITS', datatype: 'FP32', shape: [texts.length, 3], data: texts.flatMap(sentiment) }] };
    },
  },
  {
    // Spans of every capitalised word: (start, end, label 0) rows, padded with -1 to the longest task.
    name: 'ner',
    inputs: [{ name: 'TEXT', datatype: 'BYTES', shape: [-1, 1] }],
    outputs: [{ name: 'SPANS', datatype: 'INT32', shape: [-1, -1, 3] }],
    maxBatchSize: 64,
    run: (inputs) => {
      const texts = textsOf(inputs.get('TEXT'));
      if (!texts) return { error: "input 'TEXT' is missing" };
      const spans = texts.map((t) =>
        [...t.matchAll(/\b[A-Z][a-z]+\b/g)].map((m) => [m.index, m.index + m[0].length, m[0] === 'Paris' ? 1 : 0]),
      );
      const width = Math.max(1, ...spans.map((s) => s.length));
      const data = spans.flatMap((s) => [...s, ...Array.from({ length: width - s.length }, () => [-1, -1, -1])].flat());
      return { outputs: [{ name: 'SPANS', datatype: 'INT32', shape: [texts.length, width, 3], data }] };
    },
  },
  {
    // One box per image: (x1, y1, x2, y2, score, class), normalised coordinates.
    name: 'detector',
    inputs: [{ name: 'IMAGE', datatype: 'BYTES', shape: [-1, 1] }],
    outputs: [{ name: 'BOXES', datatype: 'FP32', shape: [-1, -1, 6] }],
    maxBatchSize: 16,
    run: (inputs) => {
      const urls = textsOf(inputs.get('IMAGE'));
      if (!urls) return { error: "input 'IMAGE' is missing" };
      const data = urls.flatMap((u, i) => [0.1, 0.2, 0.5, 0.6, 0.9 - i * 0.1, u.includes('dog') ? 1 : 0]);
      return { outputs: [{ name: 'BOXES', datatype: 'FP32', shape: [urls.length, 1, 6], data }] };
    },
  },
];
