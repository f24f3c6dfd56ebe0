/**
 * Small neural-network building blocks for the VAE and UNet (NHWC, tfjs ops only, so that tf.grad
 * works through them on the wasm backend with the project's registered kernels). Parameters live
 * in a `ParamStore`, created eagerly from the run's Rng and saved/loaded by name.
 */
import * as tf from '@tensorflow/tfjs';
import { groupNorm } from '../core/kernels/group_norm.js';
import type { Rng } from '../core/rng.js';

export class ParamStore {
  readonly vars = new Map<string, tf.Variable>();
  constructor(private readonly rng: Rng) {}

  /** A new trainable variable `name` with the given initialiser (He-normal by fan-in by default). */
  create(name: string, shape: number[], init: 'he' | 'zeros' | 'ones' | { std: number } = 'he', fanIn?: number): tf.Variable {
    if (this.vars.has(name)) throw new Error(`parameter '${name}' defined twice`);
    const n = shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (init === 'zeros') data = new Float32Array(n);
    else if (init === 'ones') data = new Float32Array(n).fill(1);
    else {
      const std = init === 'he' ? Math.sqrt(2 / (fanIn ?? shape.slice(0, -1).reduce((a, b) => a * b, 1))) : init.std;
      data = this.rng.normalArray(n, std);
    }
    // tfjs variable names are process-global; ours are kept in the map (several models may coexist)
    const v = tf.variable(tf.tensor(data, shape), true);
    this.vars.set(name, v);
    return v;
  }

  list(): tf.Variable[] {
    return [...this.vars.values()];
  }

  count(): number {
    let n = 0;
    for (const v of this.vars.values()) n += v.size;
    return n;
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}

export function silu(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.sigmoid(x));
}

export class Conv2d {
  readonly w: tf.Variable;
  readonly b: tf.Variable;
  constructor(
    p: ParamStore,
    name: string,
    readonly cin: number,
    readonly cout: number,
    readonly k = 3,
    readonly stride: 1 | 2 = 1,
    zeroInit = false,
  ) {
    this.w = p.create(`${name}.w`, [k, k, cin, cout], zeroInit ? 'zeros' : 'he', k * k * cin);
    this.b = p.create(`${name}.b`, [cout], 'zeros');
  }
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.add(tf.conv2d(x, this.w as tf.Tensor4D, this.stride, 'same'), this.b);
  }
}

export class Dense {
  readonly w: tf.Variable;
  readonly b: tf.Variable;
  constructor(p: ParamStore, name: string, cin: number, cout: number, zeroInit = false) {
    this.w = p.create(`${name}.w`, [cin, cout], zeroInit ? 'zeros' : { std: Math.sqrt(1 / cin) });
    this.b = p.create(`${name}.b`, [cout], 'zeros');
  }
  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(x, this.w as tf.Tensor2D), this.b);
  }
}

/** GroupNorm (Wu & He 2018) over NHWC with affine parameters, eps 1e-5. */
export class GroupNorm {
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;
  constructor(
    p: ParamStore,
    name: string,
    readonly channels: number,
    readonly groups: number,
  ) {
    if (channels % groups !== 0) throw new Error(`GroupNorm ${name}: ${channels} channels not divisible by ${groups} groups`);
    this.gamma = p.create(`${name}.gamma`, [channels], 'ones');
    this.beta = p.create(`${name}.beta`, [channels], 'zeros');
  }
  /** Normalised, scaled and shifted x; with opts.silu also SiLU, fused where the native addon runs. */
  apply(x: tf.Tensor4D, opts: { silu?: boolean } = {}): tf.Tensor4D {
    return groupNorm(x, this.gamma as tf.Tensor1D, this.beta as tf.Tensor1D, this.groups, { eps: 1e-5, silu: opts.silu });
  }
}

/** Residual block: GN-SiLU-conv, (+ time embedding), GN-SiLU-conv, plus a 1x1 skip when widths differ. */
export class ResBlock {
  private readonly n1: GroupNorm;
  private readonly c1: Conv2d;
  private readonly n2: GroupNorm;
  private readonly c2: Conv2d;
  private readonly skip: Conv2d | null;
  private readonly temb: Dense | null;
  constructor(p: ParamStore, name: string, cin: number, cout: number, groups: number, tembDim = 0) {
    this.n1 = new GroupNorm(p, `${name}.norm1`, cin, groups);
    this.c1 = new Conv2d(p, `${name}.conv1`, cin, cout);
    this.temb = tembDim > 0 ? new Dense(p, `${name}.temb`, tembDim, cout) : null;
    this.n2 = new GroupNorm(p, `${name}.norm2`, cout, groups);
    this.c2 = new Conv2d(p, `${name}.conv2`, cout, cout, 3, 1, true);
    this.skip = cin !== cout ? new Conv2d(p, `${name}.skip`, cin, cout, 1) : null;
  }
  apply(x: tf.Tensor4D, temb?: tf.Tensor2D): tf.Tensor4D {
    let h = this.c1.apply(this.n1.apply(x, { silu: true }));
    if (this.temb && temb) {
      const e = this.temb.apply(silu(temb) as tf.Tensor2D);
      h = tf.add(h, tf.reshape(e, [e.shape[0], 1, 1, e.shape[1]]));
    }
    h = this.c2.apply(this.n2.apply(h, { silu: true }));
    return tf.add(this.skip ? this.skip.apply(x) : x, h);
  }
}

/** Single-head self-attention over the spatial positions, residual. */
export class SelfAttention {
  private readonly norm: GroupNorm;
  private readonly qkv: Dense;
  private readonly proj: Dense;
  constructor(
    p: ParamStore,
    name: string,
    readonly channels: number,
    groups: number,
  ) {
    this.norm = new GroupNorm(p, `${name}.norm`, channels, groups);
    this.qkv = new Dense(p, `${name}.qkv`, channels, 3 * channels);
    this.proj = new Dense(p, `${name}.proj`, channels, channels, true);
  }
  apply(x: tf.Tensor4D): tf.Tensor4D {
    const [n, h, w, c] = x.shape;
    const hn = tf.reshape(this.norm.apply(x), [n * h * w, c]) as tf.Tensor2D;
    const qkv = tf.reshape(this.qkv.apply(hn), [n, h * w, 3 * c]);
    const [q, k, v] = tf.split(qkv, 3, 2) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
    const kt = tf.transpose(k, [0, 2, 1]);
    const att = tf.softmax(tf.mul(tf.matMul(q, kt), 1 / Math.sqrt(c)));
    const out = tf.reshape(tf.matMul(att, v), [n * h * w, c]) as tf.Tensor2D;
    return tf.add(x, tf.reshape(this.proj.apply(out), [n, h, w, c]));
  }
}

/**
 * 2x bilinear upsampling (corner-aligned sampling grid, no half-pixel centres). Built on
 * ResizeBilinear, whose gradient kernel the wasm backend has (a concat-based nearest upsampling was
 * 20x slower to differentiate). tfjs' ResizeBilinearGrad ignores halfPixelCenters, so that mode
 * would give wrong gradients: the finite-difference test in model.test.ts guards this.
 */
export function upsample2x(x: tf.Tensor4D): tf.Tensor4D {
  const [, h, w] = x.shape;
  return tf.image.resizeBilinear(x, [2 * h, 2 * w], false, false);
}

/** Sinusoidal timestep embedding (Vaswani et al.; DDPM), [sin | cos], host-computed. */
export function timestepEmbedding(ts: readonly number[], dim: number): tf.Tensor2D {
  const half = Math.floor(dim / 2);
  const out = new Float32Array(ts.length * dim);
  for (let i = 0; i < ts.length; i++) {
    for (let k = 0; k < half; k++) {
      const f = Math.exp((-Math.log(10000) * k) / half);
      out[i * dim + k] = Math.sin((ts[i] as number) * f);
      out[i * dim + half + k] = Math.cos((ts[i] as number) * f);
    }
  }
  return tf.tensor2d(out, [ts.length, dim]);
}
