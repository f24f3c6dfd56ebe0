/**
 * The ONNX importer's operator table: every supported op type maps to its handler, one file per
 * operator family. The table is the only list of supported operators.
 */
import { elementwiseOps } from './elementwise.js';
import { shapeOps } from './shape.js';
import { convOps } from './conv.js';
import { normalizationOps } from './normalization.js';
import { resizeOps } from './resize.js';
import type { OpHandler, OpTable } from './node.js';

export { Dev, NodeCtx, hostToTf, logical, type ModelHandle, type OpHandler, type Value } from './node.js';

function collect(families: readonly OpTable[]): ReadonlyMap<string, OpHandler> {
  const table = new Map<string, OpHandler>();
  for (const family of families)
    for (const [op, handler] of Object.entries(family)) {
      if (table.has(op)) throw new Error(`ONNX operator '${op}' has two handlers`);
      table.set(op, handler);
    }
  return table;
}

/** Handler of each supported ONNX operator (default domain), keyed by op type. */
export const OP_HANDLERS: ReadonlyMap<string, OpHandler> = collect([elementwiseOps, shapeOps, convOps, normalizationOps, resizeOps]);
