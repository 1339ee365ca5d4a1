/** The weights in memory: int8 and packed int8 on the GPU, the LRU of dequantized layers, the edit overlay. */
export * from './int8-webgpu';
export * from './quant';
export * from './weight-mat';
export * from './weights';
