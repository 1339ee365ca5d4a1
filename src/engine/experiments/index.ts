/** The benchmark-scale runners: pick facts, run, resume, shard, merge; manipulate, edit, calibrate. */
export * from './calibrate';
export * from './calibrate-grid';
export * from './commands';
export * from './edit';
export * from './estimate';
export * from './manipulate';
