/**
 * A differentiable ONNX importer (spec section 4): the graph is rebuilt from tfjs ops, so tf.grad
 * works through an imported ResNet, CLIP image tower or VAE decoder. Inputs and outputs keep the
 * ONNX layout (NCHW); inside, 4-D activations produced by convolutions and pools stay NHWC and are
 * only transposed back when an operator needs the logical layout. Shape computations (Shape,
 * Gather, Concat, Unsqueeze, ... on constants) are evaluated on the host. Operator handlers live
 * in ops/, one file per family; their table is the list of supported operators.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync, openSync, readSync, closeSync, fstatSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../core/errors.js';
import { decodeModel, num, DT, type NodeP, type ValueInfoP } from './proto.js';
import { HostTensor, hostFromProto } from './host.js';
import { OP_HANDLERS, Dev, NodeCtx, hostToTf, logical, type ModelHandle, type Value } from './ops/index.js';

export interface OnnxValueInfo {
  name: string;
  /** Dimensions; symbolic ones as strings, unknown as null. */
  shape: (number | string | null)[] | null;
  elemType: number;
}

export interface OnnxModel {
  readonly inputs: OnnxValueInfo[];
  readonly outputs: OnnxValueInfo[];
  readonly opset: number;
  /** Operator types used by the graph. */
  readonly opTypes: string[];
  /** Run the graph (differentiable). Inputs and outputs are in ONNX layout (NCHW). */
  apply(inputs: Record<string, tf.Tensor>): Record<string, tf.Tensor>;
  /** Number of weight values (float initializers). */
  readonly parameterCount: number;
  dispose(): void;
}

/** Operator types the importer supports. */
export function supportedOps(): string[] {
  return [...OP_HANDLERS.keys()].sort();
}

function infoOf(v: ValueInfoP): OnnxValueInfo {
  const tt = v.type?.tensor_type;
  const dims = tt?.shape?.dim;
  return {
    name: v.name ?? '',
    elemType: tt?.elem_type ?? DT.FLOAT,
    shape: dims ? dims.map((d) => (d.dim_value !== undefined && d.dim_value !== null && num(d.dim_value) > 0 ? num(d.dim_value) : d.dim_param ? d.dim_param : null)) : null,
  };
}

/**
 * Import an ONNX model from a file path or bytes. Throws an InputError naming the op type and node
 * for unsupported operators.
 */
export async function importOnnx(pathOrBytes: string | Uint8Array): Promise<OnnxModel> {
  const file = typeof pathOrBytes === 'string' ? pathOrBytes : '<onnx bytes>';
  let bytes: Uint8Array;
  try {
    bytes = typeof pathOrBytes === 'string' ? readFileSync(pathOrBytes) : pathOrBytes;
  } catch (err) {
    throw new InputError(`cannot read ONNX file: ${(err as Error).message}`, file);
  }
  let model;
  try {
    model = decodeModel(bytes);
  } catch (err) {
    throw new InputError(`not an ONNX model (protobuf decode failed: ${(err as Error).message})`, file);
  }
  const graph = model.graph;
  if (!graph || !graph.node) throw new InputError('ONNX model has no graph', file);
  const opsetEntry = (model.opset_import ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  const opset = opsetEntry ? num(opsetEntry.version) : 13;
  const baseDir = typeof pathOrBytes === 'string' ? path.dirname(pathOrBytes) : process.cwd();
  const readExternal = (loc: string, offset: number, length: number | undefined): Uint8Array => {
    const p = path.join(baseDir, loc);
    const fd = openSync(p, 'r');
    try {
      const len = length ?? fstatSync(fd).size - offset;
      const buf = Buffer.alloc(len);
      readSync(fd, buf, 0, len, offset);
      return buf;
    } finally {
      closeSync(fd);
    }
  };
  const inits = new Map<string, HostTensor>();
  let parameterCount = 0;
  for (const t of graph.initializer ?? []) {
    const h = hostFromProto(t, readExternal);
    inits.set(t.name ?? '', h);
    if (h.dtype === 'float32') parameterCount += h.size;
  }
  for (const node of graph.node) {
    const op = node.op_type ?? '';
    if ((node.domain && node.domain !== 'ai.onnx') || !OP_HANDLERS.has(op)) {
      throw new InputError(
        `unsupported ONNX operator '${node.domain ? node.domain + '.' : ''}${op}' in node '${node.name ?? '(unnamed)'}'; supported: ${supportedOps().join(', ')}`,
        file,
      );
    }
  }
  const inputs = (graph.input ?? []).filter((v) => !inits.has(v.name ?? '')).map(infoOf);
  const outputs = (graph.output ?? []).map(infoOf);
  return new ImportedModel(file, graph.node, inits, inputs, outputs, opset, parameterCount);
}

class ImportedModel implements OnnxModel, ModelHandle {
  private readonly cache = new Map<string, tf.Tensor>();
  readonly opTypes: string[];
  constructor(
    private readonly file: string,
    private readonly nodes: NodeP[],
    private readonly inits: Map<string, HostTensor>,
    readonly inputs: OnnxValueInfo[],
    readonly outputs: OnnxValueInfo[],
    readonly opset: number,
    readonly parameterCount: number,
  ) {
    this.opTypes = [...new Set(nodes.map((n) => n.op_type ?? ''))].sort();
    this.initNames = new Map([...inits].map(([k, h]) => [h, k]));
  }
  private readonly initNames: Map<HostTensor, string>;
  /** Initializer name of a host value, if it is one. */
  initName(v: HostTensor): string | undefined {
    return this.initNames.get(v);
  }

  dispose(): void {
    for (const t of this.cache.values()) t.dispose();
    this.cache.clear();
  }

  /** A tensor derived from constants, created once and kept across calls. */
  cached<T extends tf.Tensor>(key: string, make: () => T): T {
    const hit = this.cache.get(key);
    if (hit && !hit.isDisposed) return hit as T;
    const t = tf.keep(tf.tidy(make));
    this.cache.set(key, t);
    return t;
  }

  apply(feeds: Record<string, tf.Tensor>): Record<string, tf.Tensor> {
    return tf.tidy(() => {
      const env = new Map<string, Value>();
      for (const [k, v] of this.inits) env.set(k, v);
      for (const inp of this.inputs) {
        const t = feeds[inp.name];
        if (!t) throw new InputError(`missing input '${inp.name}'`, this.file);
        if (inp.shape && inp.shape.length !== t.rank) throw new InputError(`input '${inp.name}' must have rank ${inp.shape.length}, got shape [${t.shape.join(',')}]`, this.file);
        env.set(inp.name, new Dev(t));
      }
      for (const node of this.nodes) {
        const ins = (node.input ?? []).map((n) => {
          if (!n) return undefined;
          const v = env.get(n);
          if (!v) throw new InputError(`node '${node.name}' (${node.op_type}) reads '${n}', which is not computed before it`, this.file);
          return v;
        });
        const handler = OP_HANDLERS.get(node.op_type ?? '');
        if (!handler) throw new InputError(`operator ${node.op_type} is not implemented`, this.file);
        let outs: Value[];
        try {
          outs = handler(new NodeCtx(this, node, ins));
        } catch (err) {
          if (err instanceof InputError) throw err;
          throw new InputError(`node '${node.name}' (${node.op_type}): ${(err as Error).message}`, this.file);
        }
        (node.output ?? []).forEach((name, k) => {
          if (name && outs[k]) env.set(name, outs[k]!);
        });
      }
      const result: Record<string, tf.Tensor> = {};
      for (const o of this.outputs) {
        const v = env.get(o.name);
        if (!v) throw new InputError(`graph output '${o.name}' is never computed`, this.file);
        result[o.name] = v instanceof Dev ? logical(v) : hostToTf(v);
      }
      return result;
    });
  }

  /** Device tensor of a value; host initializers are cached. */
  tensorOf(v: Value): tf.Tensor {
    if (v instanceof Dev) return logical(v);
    const k = this.initNames.get(v);
    return k !== undefined ? this.cached(`init:${k}`, () => hostToTf(v)) : hostToTf(v);
  }
}
