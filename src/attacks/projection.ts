/**
 * Helpers shared by the pixel attacks (spec section 8): L_inf projection, budgets, batching and
 * parameter validation.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';

/** Allowed L_inf budgets, in 1/255 pixel units (AIP: 32 default, also 8 and 16; 4 for the low-distortion end of the frontier). */
export const BUDGETS = [4, 8, 16, 32] as const;
export type Budget = (typeof BUDGETS)[number];

/** Budget in [0,1] pixel units. */
export function budgetToEps(budget: number): number {
  return budget / 255;
}

/** Project `x` into the L_inf ball of radius eps around x0 and into [0,1] (defined beside the fused step that repeats it). */
export { projectLinf } from '../core/kernels/pixel_adam.js';

/** Host-side projection (same rule as projectLinf), returning a new array. */
export function projectLinfArray(x: Float32Array, x0: Float32Array, eps: number): Float32Array {
  if (x.length !== x0.length) throw new Error(`projectLinfArray: lengths differ (${x.length} vs ${x0.length})`);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const lo = Math.max(0, (x0[i] as number) - eps);
    const hi = Math.min(1, (x0[i] as number) + eps);
    out[i] = Math.min(hi, Math.max(lo, x[i] as number));
  }
  return out;
}

/** Split `items` into consecutive batches of at most `size`. */
export function batches<T>(items: readonly T[], size: number): T[][] {
  if (!(size >= 1)) throw new Error(`batch size must be >= 1, got ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** zod schema of a budget: one of BUDGETS. */
export const budgetSchema = z.literal([4, 8, 16, 32]);

/**
 * Validate `params` of attack `attack` with `schema`; unknown keys are rejected. Errors name the
 * parameter and what is allowed, as a ConfigError.
 */
export function parseParams<S extends z.ZodObject>(attack: string, schema: S, params: Record<string, unknown>): z.infer<S> {
  const res = schema.strict().safeParse(params);
  if (res.success) return res.data as z.infer<S>;
  const issue = res.error.issues[0]!;
  const key = issue.path.join('.') || ((issue as { keys?: string[] }).keys ?? []).join(', ');
  let allowed = '';
  if (key === 'budget') allowed = ` (allowed: ${BUDGETS.join(', ')}, in 1/255 units)`;
  else if (issue.code === 'unrecognized_keys') allowed = ` (allowed parameters: ${Object.keys(schema.shape).join(', ')})`;
  throw new ConfigError(`attack '${attack}': parameter '${key}': ${issue.message}${allowed}`);
}
