// Every test file starts on the backend named by AUV_BACKEND (default wasm), kernels registered.
import { initEngine } from '../src/core/engine.js';

process.env.AUV_QUIET = '1';
await initEngine();
