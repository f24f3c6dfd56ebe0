/** ONNX import (spec section 4): differentiable importer, model builder, encoder adapter. */
export { importOnnx, supportedOps, type OnnxModel, type OnnxValueInfo } from './importer.js';
export { OnnxGraphBuilder, tensorProto, type AttrValue } from './builder.js';
export { OnnxImageEncoder, OnnxEncoderConfigSchema, type OnnxEncoderConfig } from './encoder.js';
export { checkOnnxAgainstOrt, type OnnxCheckOptions, type OnnxCheckResult } from './check.js';
