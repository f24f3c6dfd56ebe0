/**
 * Adam with a fused update kernel ('AuvAdam', wasm and cpu): one pass over each variable computes
 *   m' = b1 m + (1-b1) g,  v' = b2 v + (1-b2) g^2,  x' = x - lr (m'/c1) / (sqrt(v'/c2) + eps)
 * with c1 = 1 - b1^t, c2 = 1 - b2^t, exactly tf.train.adam's arithmetic, instead of ~12
 * separate tensor ops per variable. A drop-in subclass of tf.AdamOptimizer.
 */
import * as tf from '@tensorflow/tfjs';
import { nativeAddon } from './native.js';

const KERNEL = 'AuvAdam';

interface AdamAttrs {
  lr: number;
  b1: number;
  b2: number;
  eps: number;
  c1: number;
  c2: number;
}

/** The fused update on plain arrays (outputs may not alias inputs). */
export function adamUpdate(
  x: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array,
  ox: Float32Array, om: Float32Array, ov: Float32Array, a: AdamAttrs,
): void {
  const { lr, b1, b2, eps, c1, c2 } = a;
  const nb1 = 1 - b1, nb2 = 1 - b2;
  for (let i = 0; i < x.length; i++) {
    const gi = g[i];
    const mi = b1 * m[i] + nb1 * gi;
    const vi = b2 * v[i] + nb2 * gi * gi;
    om[i] = mi;
    ov[i] = vi;
    ox[i] = x[i] - (lr * (mi / c1)) / (Math.sqrt(vi / c2) + eps);
  }
}

interface HeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}
interface CpuBackend {
  data: { get(id: tf.DataId): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: Float32Array): tf.TensorInfo;
}

function kernelFor(backendName: 'wasm' | 'cpu'): tf.KernelConfig {
  return {
    kernelName: KERNEL,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const [x, g, m, v] = [inputs.x, inputs.g, inputs.m, inputs.v] as tf.TensorInfo[];
      const a = attrs as unknown as AdamAttrs;
      if (backendName === 'wasm') {
        const be = backend as unknown as HeapBackend;
        const outs = [be.makeOutput(x.shape, 'float32'), be.makeOutput(x.shape, 'float32'), be.makeOutput(x.shape, 'float32')];
        const h = (t: tf.TensorInfo) => be.typedArrayFromHeap(t);
        const addon = nativeAddon();
        // Same arithmetic in the addon (in double, no fused multiply-add): the same bits.
        if (addon) addon.adam(h(x), h(g), h(m), h(v), h(outs[0]), h(outs[1]), h(outs[2]), a.lr, a.b1, a.b2, a.eps, a.c1, a.c2);
        else adamUpdate(h(x), h(g), h(m), h(v), h(outs[0]), h(outs[1]), h(outs[2]), a);
        return outs;
      }
      const be = backend as unknown as CpuBackend;
      const n = tf.util.sizeFromShape(x.shape);
      const o = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
      const d = (t: tf.TensorInfo) => be.data.get(t.dataId).values;
      adamUpdate(d(x), d(g), d(m), d(v), o[0], o[1], o[2], a);
      return o.map((vals) => be.makeTensorInfo(x.shape, 'float32', vals));
    },
  };
}

let registered = false;
function register(): void {
  if (registered) return;
  registered = true;
  for (const b of ['wasm', 'cpu'] as const) if (!tf.getKernel(KERNEL, b)) tf.registerKernel(kernelFor(b));
}

export class FastAdamOptimizer extends tf.AdamOptimizer {
  constructor(learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon?: number) {
    super(learningRate, beta1, beta2, epsilon);
    register();
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]): void {
    const list = Array.isArray(variableGradients)
      ? variableGradients.map((v) => ({ name: v.name, g: v.tensor }))
      : Object.keys(variableGradients).map((name) => ({ name, g: variableGradients[name] }));
    const t = this.iterations + 1;
    const attrs: AdamAttrs = {
      lr: this.learningRate,
      b1: this.beta1,
      b2: this.beta2,
      eps: this.epsilon,
      c1: 1 - Math.pow(this.beta1, t),
      c2: 1 - Math.pow(this.beta2, t),
    };
    const self = this as unknown as {
      accBeta1: tf.Variable;
      accBeta2: tf.Variable;
      accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
      accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
    };
    tf.tidy(() => {
      list.forEach(({ name, g }, i) => {
        const value = tf.engine().registeredVariables[name];
        if (self.accumulatedFirstMoment[i] == null) {
          self.accumulatedFirstMoment[i] = { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        }
        if (self.accumulatedSecondMoment[i] == null) {
          self.accumulatedSecondMoment[i] = { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        }
        if (g == null) return;
        const m = self.accumulatedFirstMoment[i].variable;
        const v = self.accumulatedSecondMoment[i].variable;
        // (a float32 gradient goes in as it is: toFloat() would copy it through Cast + Identity)
        const gf = g.dtype === 'float32' ? g : g.toFloat();
        const [nx, nm, nv] = tf.engine().runKernel(KERNEL, { x: value, g: gf, m, v }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
        m.assign(nm);
        v.assign(nv);
        value.assign(nx);
      });
      // Keep the base class's bias-correction state consistent (used by setWeights/getWeights).
      self.accBeta1.assign(tf.scalar(Math.pow(this.beta1, t + 1)));
      self.accBeta2.assign(tf.scalar(Math.pow(this.beta2, t + 1)));
    });
    this.incrementIterations();
  }
}

/** Drop-in for tf.train.adam with a fused per-variable update. */
export function fastAdam(learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon?: number): FastAdamOptimizer {
  return new FastAdamOptimizer(learningRate, beta1, beta2, epsilon);
}
