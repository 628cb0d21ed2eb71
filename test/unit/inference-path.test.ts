import { describe, expect, it } from 'vitest';
import { isInferencePath } from '../../worker/inference-path';

describe('isInferencePath', () => {
  it.each([
    'https://edgeplane.example.com/v2',
    'https://edgeplane.example.com/v2/',
    'https://edgeplane.example.com/v2/models/simple/infer',
    'https://edgeplane.example.com/v2?x=1',
    'http://127.0.0.1:8787/inference/gpu/v2',
    'http://127.0.0.1:8787/inference/gpu/v2/health/ready',
    'http://127.0.0.1:8787/inference/gpu-2.a_b/v2/models/m/versions/1/infer?debug=1',
  ])('sends %s to the inference app', (url) => expect(isInferencePath(url)).toBe(true));

  it.each([
    'https://edgeplane.example.com/',
    'https://edgeplane.example.com/v1/inference/backends',
    'https://edgeplane.example.com/v2x',
    'https://edgeplane.example.com/v20/models',
    'https://edgeplane.example.com/inference/gpu',
    'https://edgeplane.example.com/inference/gpu/v2x',
    'https://edgeplane.example.com/inference//v2',
    'https://edgeplane.example.com/ml/sentiment/predict',
    'https://edgeplane.example.com/admin?next=/v2',
  ])('leaves %s to the API app', (url) => expect(isInferencePath(url)).toBe(false));
});
