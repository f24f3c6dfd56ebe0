import { describe, it, expect } from 'vitest';
import { checkOnnxAgainstOrt } from './check.js';
import { tinyVitOnnx } from '../../test/onnx/testmodels.js';

describe('checkOnnxAgainstOrt', () => {
  it('reports per-output agreement with onnxruntime, symbolic batch filled in', async () => {
    const r = await checkOnnxAgainstOrt(tinyVitOnnx(), { batch: 3 });
    expect(r.inputs).toEqual([{ name: 'pixel_values', shape: [3, 3, 16, 16] }]);
    expect(r.outputs).toHaveLength(1);
    expect(r.outputs[0]!.shape).toEqual([3, 16]);
    expect(r.outputs[0]!.maxRelErr).toBeLessThan(1e-4);
    expect(r.opTypes).toContain('LayerNormalization');
    expect(r.parameterCount).toBeGreaterThan(1000);
  });
});
