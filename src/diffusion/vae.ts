/**
 * KL-regularised VAE (spec section 6): encoder E to a latent mean/log-variance of shape
 * H/2^L x W/2^L x c (c = 4, L = 2 by default: H/4), decoder D back to [0,1] images (sigmoid out).
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../core/rng.js';
import { Conv2d, GroupNorm, ParamStore, ResBlock, silu, upsample2x } from './nn.js';

export interface VaeConfig {
  /** Channels per resolution level, from full resolution down; length-1 downsamplings. */
  channels: number[];
  latentChannels: number;
  groups: number;
}

export const DEFAULT_VAE_CONFIG: VaeConfig = { channels: [16, 32, 64], latentChannels: 4, groups: 8 };

export class Vae {
  readonly params: ParamStore;
  private readonly encIn: Conv2d;
  private readonly encBlocks: ResBlock[] = [];
  private readonly encDown: Conv2d[] = [];
  private readonly encNorm: GroupNorm;
  private readonly encOut: Conv2d;
  private readonly decIn: Conv2d;
  private readonly decBlocks: ResBlock[] = [];
  private readonly decUp: Conv2d[] = [];
  private readonly decNorm: GroupNorm;
  private readonly decOut: Conv2d;

  constructor(
    readonly config: VaeConfig,
    rng: Rng,
  ) {
    const p = (this.params = new ParamStore(rng));
    const ch = config.channels;
    const g = config.groups;
    const L = ch.length - 1;
    // encoder: conv_in, then per level a ResBlock and (except last) a stride-2 conv
    this.encIn = new Conv2d(p, 'enc.in', 3, ch[0]!);
    for (let l = 0; l <= L; l++) {
      const cin = l === 0 ? ch[0]! : ch[l - 1]!;
      this.encBlocks.push(new ResBlock(p, `enc.block${l}`, cin, ch[l]!, g));
      if (l < L) this.encDown.push(new Conv2d(p, `enc.down${l}`, ch[l]!, ch[l]!, 3, 2));
    }
    this.encNorm = new GroupNorm(p, 'enc.norm', ch[L]!, g);
    this.encOut = new Conv2d(p, 'enc.out', ch[L]!, 2 * config.latentChannels);
    // decoder: mirror with nearest upsampling + conv
    this.decIn = new Conv2d(p, 'dec.in', config.latentChannels, ch[L]!);
    for (let l = L; l >= 0; l--) {
      const cin = l === L ? ch[L]! : ch[l]!;
      this.decBlocks.push(new ResBlock(p, `dec.block${l}`, cin, ch[l]!, g));
      if (l > 0) this.decUp.push(new Conv2d(p, `dec.up${l}`, ch[l]!, ch[l - 1]!));
    }
    this.decNorm = new GroupNorm(p, 'dec.norm', ch[0]!, g);
    this.decOut = new Conv2d(p, 'dec.out', ch[0]!, 3);
  }

  /** Spatial downsampling factor (H / latent height). */
  get factor(): number {
    return 2 ** (this.config.channels.length - 1);
  }

  /** E(x): latent mean and log-variance, x in [0,1] (mapped to [-1,1] inside). */
  encodeMoments(x: tf.Tensor4D): { mean: tf.Tensor4D; logvar: tf.Tensor4D } {
    return tf.tidy(() => {
      let h = this.encIn.apply(tf.sub(tf.mul(x, 2), 1) as tf.Tensor4D);
      for (let l = 0; l < this.encBlocks.length; l++) {
        h = this.encBlocks[l]!.apply(h);
        if (l < this.encDown.length) h = this.encDown[l]!.apply(h);
      }
      const out = this.encOut.apply(silu(this.encNorm.apply(h)) as tf.Tensor4D);
      const [mean, logvar] = tf.split(out, 2, 3) as [tf.Tensor4D, tf.Tensor4D];
      return { mean, logvar: tf.clipByValue(logvar, -20, 10) as tf.Tensor4D };
    });
  }

  /** D(z): images in (0,1). */
  decode(z: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      let h = this.decIn.apply(z);
      for (let k = 0; k < this.decBlocks.length; k++) {
        h = this.decBlocks[k]!.apply(h);
        if (k < this.decUp.length) h = this.decUp[k]!.apply(upsample2x(h));
      }
      return tf.sigmoid(this.decOut.apply(silu(this.decNorm.apply(h)) as tf.Tensor4D)) as tf.Tensor4D;
    });
  }

  dispose(): void {
    this.params.dispose();
  }
}
