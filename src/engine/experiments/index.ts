/** The benchmark-scale runners: one core (pick facts, run, resume, shard, merge); manipulate, edit, calibrate as its plugins. */
export * from './calibrate';
export * from './commands';
export * from './core';
export * from './edit';
export * from '../../shared/estimate';
export * from './manipulate';
export * from './record-sink';
export * from './requests';
export * from './runs';
export * from './lape';
