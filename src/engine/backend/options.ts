/** The page's backend options (?threads=, ?weights=) as the engine takes them; anything else is refused with the accepted values. */
import { KnError } from '../../shared/errors';
import type { DeviceWeights } from '../../shared/types';
import { MAX_WASM_THREADS, type InitBackendOptions } from './backend';

/** `?threads=auto|off|N` → the engine's option (undefined: not given) */
export function parseWasmThreads(v: string | undefined): InitBackendOptions['wasmThreads'] {
  if (v === undefined) return undefined;
  const t = v.trim().toLowerCase();
  if (t === 'auto' || t === '') return 'auto';
  if (t === 'off') return 'off';
  if (/^\d+$/.test(t) && Number(t) >= 1 && Number(t) <= MAX_WASM_THREADS) return Number(t) === 1 ? 'off' : Number(t);
  throw new KnError('bad-input', `threads must be auto, off or a number from 1 to ${MAX_WASM_THREADS}, got "${v}"`);
}

/** `?weights=auto|packed|lru`: how int8 matrices reach the device (undefined: not given) */
export function checkDeviceWeights(dw: unknown): DeviceWeights | undefined {
  if (dw === undefined || dw === 'auto' || dw === 'packed' || dw === 'lru') return dw;
  throw new KnError('bad-input', `weights must be auto, packed or lru, got "${String(dw)}"`);
}
