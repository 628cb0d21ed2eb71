import { describe, expect, it } from 'vitest';
import { inferenceRoute } from '../../worker/inference-path';

describe('inferenceRoute', () => {
  it.each([
    ['https://edgeplane.example.com/v2', undefined, ''],
    ['https://edgeplane.example.com/v2/', undefined, '/'],
    ['https://edgeplane.example.com/v2/models/simple/infer', undefined, '/models/simple/infer'],
    ['https://edgeplane.example.com/v2?x=1', undefined, ''],
    ['http://127.0.0.1:8787/inference/gpu/v2', 'gpu', ''],
    ['http://127.0.0.1:8787/inference/gpu/v2/health/ready', 'gpu', '/health/ready'],
    ['http://127.0.0.1:8787/inference/gpu-2.a_b/v2/models/m/versions/1/infer?debug=1', 'gpu-2.a_b', '/models/m/versions/1/infer'],
    ['http://127.0.0.1:8787/inference/g%70u/v2/models', 'gpu', '/models'],
    ['http://127.0.0.1:8787/inference/%E0%A4%A/v2', '%E0%A4%A', ''],
  ])('sends %s to the proxy: backend %s, path %s', (url, backend, rest) => expect(inferenceRoute(url)).toEqual({ backend, rest }));

  it.each([
    'https://edgeplane.example.com/',
    'https://edgeplane.example.com/v1/inference/backends',
    'https://edgeplane.example.com/v2x',
    'https://edgeplane.example.com/v20/models',
    'https://edgeplane.example.com/inference/gpu',
    'https://edgeplane.example.com/inference/gpu/v2x',
    'https://edgeplane.example.com/inference//v2',
    'https://edgeplane.example.com/inference/a/b/v2',
    'https://edgeplane.example.com/ml/sentiment/predict',
    'https://edgeplane.example.com/admin?next=/v2',
  ])('leaves %s to the API app', (url) => expect(inferenceRoute(url)).toBeUndefined());
});
