/** The tfjs backend: WebGPU, wasm or cpu, its adapter, device loss. */
export * from './backend';
export * from './options';
