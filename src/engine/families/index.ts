/** The model families (each defines its FFN neuron), the loaded model and its tokenizer. */
export * from './bert';
export * from './bloom';
export * from './family';
export * from './gemma';
export * from './gpt2';
export * from './llama';
export * from './model';
export * from './ops';
export * from './registry';
export * from './tokenizer';
export * from './xlmr';
