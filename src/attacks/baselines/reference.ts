/**
 * The reference item an attack pulls a target toward: a popular training item, chosen from public
 * interactions only. One rule shared by EXPA (AIP's expert attack) and SC-DAG, so that the two
 * differ only in how they change the image, never in what they aim at.
 */
import type { Dataset } from '../../data/dataset.js';
import type { AttackContext } from '../attack.js';
import { popularItems } from './popularity.js';

/** 'category': the most popular training item of the target's category (else overall); 'overall': the most popular item. */
export type ReferenceMode = 'category' | 'overall';

/** target item -> reference item, from popularity statistics (popularItems). */
export function referenceChooser(ds: Pick<Dataset, 'itemCategory'>, pop: Pick<ReturnType<typeof popularItems>, 'overall' | 'byCategory'>, mode: ReferenceMode): (item: number) => number {
  return (item: number): number => {
    if (mode === 'category' && pop.byCategory && ds.itemCategory) {
      const c = pop.byCategory[ds.itemCategory[item] as number] ?? -1;
      if (c >= 0) return c;
    }
    return pop.overall;
  };
}

/** The same choice straight from an attack context (dataset and training interactions). */
export function popularReference(ctx: AttackContext, mode: ReferenceMode): (item: number) => number {
  return referenceChooser(ctx.dataset(), popularItems(ctx), mode);
}
