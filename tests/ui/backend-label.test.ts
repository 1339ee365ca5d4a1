import { describe, expect, it } from 'vitest';
import { backendSwitchUrl, describeBackendShort, wasmThreadsLabel } from '../../src/ui/backend-label';

describe('the backend chip', () => {
  it('on wasm because the WebGPU adapter is software: says so and offers WebGPU with one click', () => {
    const l = describeBackendShort({
      name: 'wasm',
      fallbacks: [{ name: 'webgpu', reason: 'the WebGPU adapter is a software renderer (SwiftShader); wasm is faster on it', usable: true }],
    });
    expect(l.name).toBe('wasm');
    expect(l.why).toBe('WebGPU passed over: the WebGPU adapter is a software renderer (SwiftShader); wasm is faster on it');
    expect(l.switchTo).toEqual({ backend: 'webgpu', label: 'Use WebGPU anyway' });
  });

  it('on a software WebGPU adapter asked for by name: says it is slow and offers wasm', () => {
    const l = describeBackendShort({ name: 'webgpu', fallbacks: [], software: 'SwiftShader' });
    expect(l.why).toBe('WebGPU on a software adapter (SwiftShader): slower than wasm here');
    expect(l.switchTo).toEqual({ backend: 'wasm', label: 'Use wasm' });
  });

  it('on hardware WebGPU: nothing to explain, wasm one click away', () => {
    expect(describeBackendShort({ name: 'webgpu', fallbacks: [] })).toEqual({ name: 'webgpu', why: '', switchTo: { backend: 'wasm', label: 'Use wasm' } });
  });

  it('WebGPU unavailable: the reason, and no offer to switch to it', () => {
    const l = describeBackendShort({ name: 'wasm', fallbacks: [{ name: 'webgpu', reason: 'no WebGPU adapter' }] }, { webgpuPresent: true });
    expect(l.why).toBe('WebGPU unavailable: no WebGPU adapter');
    expect(l.switchTo).toBeNull();
  });

  it('wasm forced by ?backend=wasm in a browser with WebGPU: offers to try it', () => {
    expect(describeBackendShort({ name: 'wasm', fallbacks: [] }, { webgpuPresent: true }).switchTo).toEqual({ backend: 'webgpu', label: 'Try WebGPU' });
    expect(describeBackendShort({ name: 'wasm', fallbacks: [] }, { webgpuPresent: false }).switchTo).toBeNull();
  });

  it('the switch keeps every other parameter and the hash (the exploration state)', () => {
    expect(backendSwitchUrl('http://h/app/?autoload=0&backend=wasm#s=abc', 'webgpu')).toBe('http://h/app/?autoload=0&backend=webgpu#s=abc');
    expect(backendSwitchUrl('http://h/?backend=nope#s=abc', null)).toBe('http://h/#s=abc');
  });
});

describe("the chip's wasm threads", () => {
  it('threaded on an isolated page; one thread with the reason otherwise; nothing on another backend', () => {
    expect(wasmThreadsLabel({ name: 'wasm', fallbacks: [], threads: 4, detail: 'SIMD true, threads 4' })?.text).toBe('4 threads');
    const one = wasmThreadsLabel({
      name: 'wasm',
      fallbacks: [],
      threads: 1,
      detail: 'SIMD true, threads off (the page is not cross-origin isolated (COOP/COEP headers))',
    });
    expect(one?.text).toBe('1 thread');
    expect(one?.title).toBe('wasm runs on one thread: the page is not cross-origin isolated (COOP/COEP headers)');
    expect(wasmThreadsLabel({ name: 'webgpu', fallbacks: [] })).toBeNull();
    expect(wasmThreadsLabel({ name: 'wasm', fallbacks: [] })).toBeNull();
  });
});
