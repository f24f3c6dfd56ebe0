/**
 * A small ONNX model builder: emits genuine ModelProto bytes (protobufjs) so that tests and users
 * can make small ONNX files without Python. Used by the importer tests, which check the importer
 * against onnxruntime on the same bytes.
 */
import { DT, encodeModel, type AttributeP, type NodeP, type TensorP, type ValueInfoP } from './proto.js';

/** An attribute value: integer, {f} float, int list, {floats} float list, string, or {t} tensor. */
export type AttrValue = number | number[] | string | { f: number } | { floats: number[] } | { t: TensorP };

export function tensorProto(name: string, dims: number[], data: ArrayLike<number>, dataType: number = DT.FLOAT): TensorP {
  const n = dims.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new Error(`tensor ${name}: ${data.length} values for dims [${dims.join(',')}]`);
  let raw: Uint8Array;
  if (dataType === DT.FLOAT) raw = new Uint8Array(Float32Array.from(data).buffer);
  else if (dataType === DT.INT64) raw = new Uint8Array(BigInt64Array.from(Array.from(data, (v) => BigInt(Math.trunc(v)))).buffer);
  else if (dataType === DT.INT32) raw = new Uint8Array(Int32Array.from(data).buffer);
  else if (dataType === DT.BOOL || dataType === DT.UINT8) raw = Uint8Array.from(data);
  else throw new Error(`tensorProto: unsupported data type ${dataType}`);
  return { name, dims, data_type: dataType, raw_data: raw };
}

function attribute(name: string, v: AttrValue): AttributeP {
  if (typeof v === 'number') return { name, type: 2, i: v };
  if (typeof v === 'string') return { name, type: 3, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: 7, ints: v };
  if ('f' in v) return { name, type: 1, f: v.f };
  if ('floats' in v) return { name, type: 6, floats: v.floats };
  return { name, type: 4, t: v.t };
}

function valueInfo(name: string, dims: (number | string)[], elemType: number): ValueInfoP {
  return {
    name,
    type: { tensor_type: { elem_type: elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } },
  };
}

export class OnnxGraphBuilder {
  private readonly nodes: NodeP[] = [];
  private readonly inits: TensorP[] = [];
  private readonly inputs: ValueInfoP[] = [];
  private readonly outputs: ValueInfoP[] = [];
  private counter = 0;

  /** Declare a graph input (dims may be symbolic strings such as 'N'). */
  input(name: string, dims: (number | string)[], elemType: number = DT.FLOAT): string {
    this.inputs.push(valueInfo(name, dims, elemType));
    return name;
  }

  /** Declare a graph output (shape left unspecified). */
  output(name: string, elemType: number = DT.FLOAT): this {
    this.outputs.push({ name, type: { tensor_type: { elem_type: elemType } } });
    return this;
  }

  /** Add an initializer (weights, shapes) and return its name. */
  init(name: string, dims: number[], data: ArrayLike<number>, dataType: number = DT.FLOAT): string {
    this.inits.push(tensorProto(name, dims, data, dataType));
    return name;
  }

  /** Add a node; returns its first output name (auto-named when `outputs` is a count). */
  node(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs: string[] | number = 1, name?: string): string {
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, (_, k) => `${opType.toLowerCase()}_${this.counter}_${k}`) : outputs;
    this.nodes.push({
      name: name ?? `${opType}_${this.counter}`,
      op_type: opType,
      input: inputs,
      output: outs,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    this.counter += 1;
    return outs[0]!;
  }

  /** All output names of the last node added. */
  lastOutputs(): string[] {
    return this.nodes[this.nodes.length - 1]?.output ?? [];
  }

  build(opset = 17, irVersion = 8): Uint8Array {
    return encodeModel({
      ir_version: irVersion,
      producer_name: 'auv-fusion-builder',
      opset_import: [{ domain: '', version: opset }],
      graph: { name: 'g', node: this.nodes, initializer: this.inits, input: this.inputs, output: this.outputs },
    });
  }
}
