import { describe, expect, it } from 'vitest';
import { backendLabel, cpuDetail, formatMs, msPerToken, resolveBackendSetting } from '../../../src/lib/engine/backend-setting';

describe('resolveBackendSetting', () => {
  it('takes a valid ?backend= over the remembered choice', () => {
    expect(resolveBackendSetting('cpu', 'webgpu')).toEqual({ choice: 'cpu', problem: null });
    expect(resolveBackendSetting('webgpu', null)).toEqual({ choice: 'webgpu', problem: null });
  });
  it('accepts any case and stray spaces in the address', () => {
    expect(resolveBackendSetting(' WebGPU ', null).choice).toBe('webgpu');
  });
  it('turns an unknown value into auto with a message naming it and the valid ones', () => {
    const r = resolveBackendSetting('gpu', 'cpu');
    expect(r.choice).toBe('auto');
    expect(r.problem).toContain('“gpu”');
    expect(r.problem).toMatch(/cpu, webgpu or auto/);
  });
  it('treats an empty ?backend= as a bad value, not as absent', () => {
    expect(resolveBackendSetting('', 'cpu')).toMatchObject({ choice: 'auto', problem: expect.any(String) });
  });
  it('without a parameter uses the remembered choice, and auto when there is none or it is junk', () => {
    expect(resolveBackendSetting(null, 'cpu')).toEqual({ choice: 'cpu', problem: null });
    expect(resolveBackendSetting(null, null)).toEqual({ choice: 'auto', problem: null });
    expect(resolveBackendSetting(null, 'quantum')).toEqual({ choice: 'auto', problem: null });
  });
});

describe('backendLabel', () => {
  it('names the CPU plainly', () => expect(backendLabel('cpu', 'CPU (JavaScript, single thread)')).toBe('CPU'));
  it('names the WebGPU adapter from the device description', () => {
    expect(backendLabel('webgpu', 'WebGPU (nvidia, ampere)')).toBe('WebGPU — nvidia, ampere');
  });
  it('keeps a device description of another form as it is', () => {
    expect(backendLabel('webgpu', 'some adapter')).toBe('WebGPU — some adapter');
    expect(backendLabel('webgpu', '')).toBe('WebGPU');
  });
});

describe('cpuDetail', () => {
  it('gives how the CPU computes', () => expect(cpuDetail('CPU (WebAssembly SIMD, single thread)')).toBe('WebAssembly SIMD, single thread'));
  it('keeps a description of another form as it is', () => expect(cpuDetail('a CPU')).toBe('a CPU'));
});

describe('msPerToken and formatMs', () => {
  it('divides a pass over its tokens', () => expect(msPerToken({ ms: 12, tokens: 4 })).toBe(3));
  it('a pass of no tokens has no rate rather than Infinity', () => expect(formatMs(msPerToken({ ms: 1, tokens: 0 }))).toBe('–'));
  it('shows two decimals below 10 ms, one below 100 ms, none above', () => {
    expect(formatMs(0.01234)).toBe('0.01 ms');
    expect(formatMs(2.345)).toBe('2.35 ms');
    expect(formatMs(23.45)).toBe('23.4 ms');
    expect(formatMs(234.5)).toBe('235 ms');
  });
});
