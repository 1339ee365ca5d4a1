/** What is done to the neurons and weights: suppress/enhance (manipulate), edit, inject. */
export * from './edit';
export * from './inject';
export * from './manipulate';
