// Getting a GPU device, and noticing when it goes bad. A device is asked for exactly the limits our
// kernels need, checked against what the adapter offers, rather than trusting that the defaults
// hold everywhere; the two buffer-size limits are asked at the adapter's maximum, so that large
// weights are split into as few blocks as possible. No optional feature (shader-f16, subgroups)
// is used: every WebGPU implementation runs these kernels as written.
import { EngineError } from '../../errors';

// The WebGPU flag values from the specification, spelled out so the backend runs where the
// GPUBufferUsage / GPUMapMode / GPUShaderStage globals are absent (Node with the webgpu package).
export const bufferUsage = { mapRead: 1, copySrc: 4, copyDst: 8, uniform: 64, storage: 128 } as const;
export const mapModeRead = 1;
export const computeStage = 4;

// What the kernels in kernels/ use: one bind group of a dynamic-offset uniform block and at most
// four storage buffers; workgroups of 64 threads (64x1, 8x8 or 16x4); at most 1 KiB of workgroup
// memory (the matrix-vector kernel's partial sums); grids of up to 65535 per dimension.
export const neededLimits = {
  maxBindGroups: 1,
  maxBindingsPerBindGroup: 5,
  maxDynamicUniformBuffersPerPipelineLayout: 1,
  maxUniformBuffersPerShaderStage: 1,
  maxUniformBufferBindingSize: 256,
  maxStorageBuffersPerShaderStage: 4,
  maxComputeWorkgroupStorageSize: 1024,
  maxComputeInvocationsPerWorkgroup: 64,
  maxComputeWorkgroupSizeX: 64,
  maxComputeWorkgroupSizeY: 8,
  maxComputeWorkgroupsPerDimension: 65535
} as const;

export interface Gpu {
  // The GPU object and adapter are kept for as long as the device: in Node, the webgpu package
  // frees its native instance when the GPU object is garbage-collected, even with a device alive,
  // and the next event it processes crashes the process.
  api: GPU;
  adapter: GPUAdapter;
  device: GPUDevice;
  description: string; // the adapter, in words
  health: Health;
}

export async function requestGpu(gpu: GPU | undefined, allowFallbackAdapter = true): Promise<Gpu> {
  const api = gpu ?? (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!api) throw new Error('this environment has no WebGPU (navigator.gpu is missing)');
  const adapter = await api.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('no GPU adapter is available');
  const fallback = (adapter.info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  if (fallback && !allowFallbackAdapter) throw new Error('the only GPU adapter is a software one, which is slower than the CPU backend');
  const requiredLimits: Record<string, number> = {};
  for (const [name, need] of Object.entries(neededLimits)) {
    const has = adapter.limits[name as keyof GPUSupportedLimits] as number | undefined;
    if (has === undefined) continue; // a limit older browsers do not know yet; their defaults serve
    if (!(has >= need)) throw new Error(`the GPU adapter's ${name} is ${has}, the kernels need ${need}`);
    requiredLimits[name] = need;
  }
  requiredLimits.maxStorageBufferBindingSize = adapter.limits.maxStorageBufferBindingSize;
  requiredLimits.maxBufferSize = adapter.limits.maxBufferSize;
  const device = await adapter.requestDevice({ requiredLimits, label: 'explorable-llm' });
  if (!device) throw new Error('the GPU adapter gave no device');
  const info = adapter.info as GPUAdapterInfo | undefined;
  const words = [info?.vendor, info?.architecture, info?.device, info?.description].filter((s) => s);
  return { api, adapter, device, description: `WebGPU (${words.length > 0 ? words.join(', ') : 'unnamed adapter'})`, health: new Health(device) };
}

// A device can be lost (driver reset, GPU unplugged, the tab in the background too long, our own
// destroy()) and can raise errors outside any error scope. Either makes the next forward pass throw
// an EngineError with code gpu_lost or gpu_error, which the fallback in backend.ts takes as the
// signal to continue on the CPU.
export class Health {
  lost: string | null = null;
  error: string | null = null;

  constructor(device: GPUDevice) {
    device.lost.then((info) => {
      this.lost = info.message || info.reason || 'unknown reason';
    });
    device.addEventListener('uncapturederror', (event) => {
      this.error ??= (event as GPUUncapturedErrorEvent).error.message;
    });
  }

  check(): void {
    if (this.lost !== null) throw new EngineError('gpu_lost', `The GPU device was lost: ${this.lost}`);
    if (this.error !== null) throw new EngineError('gpu_error', `The GPU reported an error: ${this.error}`);
  }

  // The EngineError for a failure seen while a forward pass was on the GPU.
  failure(e: unknown): EngineError {
    if (e instanceof EngineError) return e;
    // a GPUError is not an Error, but has a message
    const message = e !== null && typeof e === 'object' && 'message' in e ? String(e.message) : String(e);
    if (this.lost !== null) return new EngineError('gpu_lost', `The GPU device was lost: ${this.lost}${message ? ` (${message})` : ''}`);
    return new EngineError('gpu_error', `The GPU failed during a forward pass: ${message}`);
  }
}
