// What the runner needs to know about a WGSL kernel besides its source: the layout of its uniform
// parameters and the access of each storage buffer it binds. Binding 0 is always the uniform block
// (one 256-byte slot of a shared buffer, picked per dispatch by a dynamic offset); bindings 1.. are
// the storage buffers, in the order `storage` lists them.
export interface KernelSource {
  name: string;
  code: string; // WGSL
  params: string; // one letter per 4-byte field of the uniform struct: 'u' u32, 'f' f32
  storage: string; // one letter per storage binding: 'r' read-only, 'w' read_write
}

// Elementwise kernels run 64 threads a workgroup over a 2D grid of workgroups, because one
// dimension holds at most 65535 of them; this turns a thread's ids back into one flat index.
export const flatIndex = /* wgsl */ `
fn flatIndex(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * 64u + lid;
}
`;

// The workgroup grid for n items at `per` items a workgroup, folded into two dimensions.
export function grid(n: number, per = 64): [number, number] {
  const groups = Math.max(1, Math.ceil(n / per));
  const x = Math.min(groups, 65535);
  return [x, Math.ceil(groups / x)];
}
