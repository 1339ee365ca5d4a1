/** Where weights come from: URLs, local folders, Hugging Face layouts, safetensors, our int8 bundle, the content hash. */
export * from './checkpoint';
export * from './http';
export * from './knformat';
export * from './model-id';
export * from './safetensors';
export * from './source';
