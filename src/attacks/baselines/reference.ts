/**
 * The reference item an attack pulls a target toward: a popular training item, chosen from public
 * interactions only. One function shared by EXPA (AIP's expert attack) and SC-DAG, so that the two
 * differ only in how they change the image, never in what they aim at.
 */
import type { AttackContext } from '../attack.js';
import { popularItems } from './popularity.js';

/** 'category': the most popular training item of the target's category (else overall); 'overall': the most popular item. */
export type ReferenceMode = 'category' | 'overall';

/** A function target item -> reference item index, from the training interactions. */
export function popularReference(ctx: AttackContext, mode: ReferenceMode): (item: number) => number {
  const ds = ctx.dataset();
  const pop = popularItems(ctx);
  return (item: number): number => {
    if (mode === 'category' && pop.byCategory && ds.itemCategory) {
      const c = pop.byCategory[ds.itemCategory[item] as number] ?? -1;
      if (c >= 0) return c;
    }
    return pop.overall;
  };
}
