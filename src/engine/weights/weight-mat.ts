/** A weight matrix as WeightStore.mat hands it out, and the switch that lets a gradient reach it. */
import type * as tf from '@tensorflow/tfjs';
import type { PackedWeight } from './int8-webgpu';

/** float32 [in, out], or packed int8 on WebGPU (int8-webgpu.ts). */
export type WeightMat = tf.Tensor2D | PackedWeight;

/** Set while weights are trained (src/engine/interventions/inject.ts): matMulW then lets the gradient reach W too. */
export const weightGrad = { on: false };
