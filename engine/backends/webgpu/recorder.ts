// How work reaches the GPU. A forward pass is first recorded as a list of dispatches and copies,
// with each dispatch's parameters written into its own 256-byte slot of one uniform buffer (bound
// with a dynamic offset, so bind groups are made once, when the model loads). Then the whole list
// is encoded into one command encoder and submitted once, after one write of the parameters: the
// GPU never waits for the page between kernels.
import { bufferUsage, computeStage } from './device';
import type { KernelSource } from './kernels/kernel';

// minUniformBufferOffsetAlignment is at most 256 on every device, so 256 is always aligned
export const slotBytes = 256;

export interface Kernel {
  source: KernelSource;
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

export async function createKernels<K extends string>(device: GPUDevice, sources: Record<K, KernelSource>): Promise<Record<K, Kernel>> {
  const layouts = new Map<string, GPUBindGroupLayout>(); // kernels with the same bindings share one
  const layoutFor = (storage: string) => {
    let layout = layouts.get(storage);
    if (!layout) {
      layout = device.createBindGroupLayout({
        label: `bindings ${storage}`,
        entries: [
          { binding: 0, visibility: computeStage, buffer: { type: 'uniform', hasDynamicOffset: true } },
          ...[...storage].map((a, i) => ({
            binding: i + 1,
            visibility: computeStage,
            buffer: { type: a === 'w' ? ('storage' as const) : ('read-only-storage' as const) }
          }))
        ]
      });
      layouts.set(storage, layout);
    }
    return layout;
  };
  const entries = await Promise.all(
    (Object.entries(sources) as [K, KernelSource][]).map(async ([key, source]): Promise<[K, Kernel]> => {
      const layout = layoutFor(source.storage);
      const module = device.createShaderModule({ label: source.name, code: source.code });
      try {
        const pipeline = await device.createComputePipelineAsync({
          label: source.name,
          layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
          compute: { module, entryPoint: 'main' }
        });
        return [key, { source, pipeline, layout }];
      } catch (e) {
        const info = await module.getCompilationInfo();
        const errors = info.messages.filter((m) => m.type === 'error').map((m) => `${m.lineNum}:${m.linePos} ${m.message}`);
        throw new Error(`WGSL kernel ${source.name} failed to compile: ${errors.join('; ') || (e as Error).message}`);
      }
    })
  );
  return Object.fromEntries(entries) as Record<K, Kernel>;
}

export function bindGroup(device: GPUDevice, kernel: Kernel, uniforms: GPUBuffer, buffers: GPUBuffer[]): GPUBindGroup {
  if (buffers.length !== kernel.source.storage.length) {
    throw new Error(`kernel ${kernel.source.name} binds ${kernel.source.storage.length} buffers, got ${buffers.length}`);
  }
  return device.createBindGroup({
    label: kernel.source.name,
    layout: kernel.layout,
    entries: [
      { binding: 0, resource: { buffer: uniforms, offset: 0, size: slotBytes } },
      ...buffers.map((buffer, i) => ({ binding: i + 1, resource: { buffer } }))
    ]
  });
}

type Step =
  | { kind: 'dispatch'; kernel: Kernel; group: GPUBindGroup; slot: number; grid: [number, number] }
  | { kind: 'copy'; src: GPUBuffer; srcOffset: number; dst: GPUBuffer | null; dstOffset: number; bytes: number };

export class Recorder {
  private steps: Step[] = [];
  private slots = 0;
  private params: DataView;
  readbackBytes = 0; // bytes of the staging buffer the readbacks fill

  constructor(readonly capacity: number) {
    this.params = new DataView(new ArrayBuffer(capacity * slotBytes));
  }

  dispatch(kernel: Kernel, group: GPUBindGroup, values: number[], grid: [number, number]): void {
    const fields = kernel.source.params;
    if (values.length !== fields.length) throw new Error(`kernel ${kernel.source.name} takes ${fields.length} parameters, got ${values.length}`);
    if (this.slots === this.capacity) throw new Error(`a forward pass needs more than ${this.capacity} dispatches`);
    const base = this.slots * slotBytes;
    values.forEach((v, i) => {
      if (fields[i] === 'f') this.params.setFloat32(base + 4 * i, v, true);
      else this.params.setUint32(base + 4 * i, v, true);
    });
    this.steps.push({ kind: 'dispatch', kernel, group, slot: this.slots++, grid });
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.steps.push({ kind: 'copy', src, srcOffset, dst, dstOffset, bytes });
  }

  // Copy bytes of src into the staging buffer; returns where they will be.
  readback(src: GPUBuffer, srcOffset: number, bytes: number): number {
    const at = this.readbackBytes;
    this.steps.push({ kind: 'copy', src, srcOffset, dst: null, dstOffset: at, bytes });
    this.readbackBytes += bytes;
    return at;
  }

  // Write the parameters, encode every step into one command buffer. Dispatches in a row share a
  // compute pass (WebGPU orders their storage accesses); a copy ends the pass.
  finish(device: GPUDevice, uniforms: GPUBuffer, staging: GPUBuffer): GPUCommandBuffer {
    device.queue.writeBuffer(uniforms, 0, this.params.buffer, 0, Math.max(1, this.slots) * slotBytes);
    const encoder = device.createCommandEncoder({ label: 'forward' });
    let pass: GPUComputePassEncoder | null = null;
    for (const step of this.steps) {
      if (step.kind === 'dispatch') {
        pass ??= encoder.beginComputePass();
        pass.setPipeline(step.kernel.pipeline);
        pass.setBindGroup(0, step.group, [step.slot * slotBytes]);
        pass.dispatchWorkgroups(step.grid[0], step.grid[1]);
      } else {
        pass?.end();
        pass = null;
        encoder.copyBufferToBuffer(step.src, step.srcOffset, step.dst ?? staging, step.dstOffset, step.bytes);
      }
    }
    pass?.end();
    return encoder.finish();
  }
}

export function createUniforms(device: GPUDevice, slots: number): GPUBuffer {
  return device.createBuffer({ label: 'parameters', size: slots * slotBytes, usage: bufferUsage.uniform | bufferUsage.copyDst });
}
