/**
 * UNet noise predictor eps_theta(z_t, t) (spec section 6): sinusoidal timestep embedding + MLP,
 * residual blocks with GroupNorm and SiLU, stride-2 downsampling and nearest upsampling with skip
 * connections, self-attention at the lowest resolution.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../core/rng.js';
import { Conv2d, Dense, GroupNorm, ParamStore, ResBlock, SelfAttention, silu, timestepEmbedding, upsample2x } from './nn.js';

export interface UnetConfig {
  /** Channels per level, from the latent resolution down. */
  channels: number[];
  groups: number;
  /** Sinusoidal embedding size; the MLP widens it to 4x. */
  timeEmbedDim: number;
  /** Self-attention at the lowest resolution. */
  attention: boolean;
}

export const DEFAULT_UNET_CONFIG: UnetConfig = { channels: [32, 64], groups: 8, timeEmbedDim: 32, attention: true };

export class Unet {
  readonly params: ParamStore;
  private readonly tmlp1: Dense;
  private readonly tmlp2: Dense;
  private readonly convIn: Conv2d;
  private readonly down: ResBlock[] = [];
  private readonly downsample: Conv2d[] = [];
  private readonly mid1: ResBlock;
  private readonly midAttn: SelfAttention | null;
  private readonly mid2: ResBlock;
  private readonly up: ResBlock[] = [];
  private readonly upsample: Conv2d[] = [];
  private readonly downAttn: SelfAttention | null;
  private readonly upAttn: SelfAttention | null;
  private readonly normOut: GroupNorm;
  private readonly convOut: Conv2d;

  constructor(
    readonly config: UnetConfig,
    readonly latentChannels: number,
    rng: Rng,
  ) {
    const p = (this.params = new ParamStore(rng));
    const ch = config.channels;
    const g = config.groups;
    const L = ch.length - 1;
    const tdim = config.timeEmbedDim * 4;
    this.tmlp1 = new Dense(p, 'time.fc1', config.timeEmbedDim, tdim);
    this.tmlp2 = new Dense(p, 'time.fc2', tdim, tdim);
    this.convIn = new Conv2d(p, 'in', latentChannels, ch[0]!);
    for (let l = 0; l <= L; l++) {
      this.down.push(new ResBlock(p, `down${l}`, l === 0 ? ch[0]! : ch[l - 1]!, ch[l]!, g, tdim));
      if (l < L) this.downsample.push(new Conv2d(p, `down${l}.ds`, ch[l]!, ch[l]!, 3, 2));
    }
    this.downAttn = config.attention ? new SelfAttention(p, 'down.attn', ch[L]!, g) : null;
    this.mid1 = new ResBlock(p, 'mid1', ch[L]!, ch[L]!, g, tdim);
    this.midAttn = config.attention ? new SelfAttention(p, 'mid.attn', ch[L]!, g) : null;
    this.mid2 = new ResBlock(p, 'mid2', ch[L]!, ch[L]!, g, tdim);
    for (let l = L; l >= 0; l--) {
      // input: previous path (ch[l]) concatenated with the skip of this level (ch[l])
      this.up.push(new ResBlock(p, `up${l}`, 2 * ch[l]!, ch[l]!, g, tdim));
      if (l > 0) this.upsample.push(new Conv2d(p, `up${l}.us`, ch[l]!, ch[l - 1]!));
    }
    this.upAttn = config.attention ? new SelfAttention(p, 'up.attn', ch[L]!, g) : null;
    this.normOut = new GroupNorm(p, 'out.norm', ch[0]!, g);
    this.convOut = new Conv2d(p, 'out', ch[0]!, latentChannels, 3, 1, true);
  }

  /** eps_theta(z_t, t) for a batch; `t` one timestep for all, or one per sample. */
  predict(zt: tf.Tensor4D, t: number | readonly number[]): tf.Tensor4D {
    const n = zt.shape[0];
    const ts = typeof t === 'number' ? new Array<number>(n).fill(t) : t;
    return tf.tidy(() => {
      const temb = this.tmlp2.apply(silu(this.tmlp1.apply(timestepEmbedding(ts, this.config.timeEmbedDim))) as tf.Tensor2D);
      let h = this.convIn.apply(zt);
      const skips: tf.Tensor4D[] = [];
      const L = this.down.length - 1;
      for (let l = 0; l <= L; l++) {
        h = this.down[l]!.apply(h, temb);
        if (l === L && this.downAttn) h = this.downAttn.apply(h);
        skips.push(h);
        if (l < L) h = this.downsample[l]!.apply(h);
      }
      h = this.mid1.apply(h, temb);
      if (this.midAttn) h = this.midAttn.apply(h);
      h = this.mid2.apply(h, temb);
      for (let k = 0; k <= L; k++) {
        h = this.up[k]!.apply(tf.concat([h, skips[L - k]!], 3) as tf.Tensor4D, temb);
        if (k === 0 && this.upAttn) h = this.upAttn.apply(h);
        if (k < L) h = this.upsample[k]!.apply(upsample2x(h));
      }
      return this.convOut.apply(silu(this.normOut.apply(h)) as tf.Tensor4D);
    });
  }

  dispose(): void {
    this.params.dispose();
  }
}
