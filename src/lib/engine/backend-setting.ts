// Which backend the engine runs on, as a reader's setting: `auto` (WebGPU on a real GPU, else the
// CPU), `cpu` or `webgpu`. A `?backend=` in the address wins over the choice remembered from an
// earlier visit, so a link can pin the backend (the browser tests pin the CPU this way).
import type { BackendName } from '../../../engine/backend';

export const backendChoices = ['auto', 'cpu', 'webgpu'] as const;
export type BackendChoice = (typeof backendChoices)[number];

export function isBackendChoice(value: unknown): value is BackendChoice {
  return typeof value === 'string' && (backendChoices as readonly string[]).includes(value);
}

export interface BackendSetting {
  choice: BackendChoice;
  problem: string | null; // what was wrong with the address's value, for the reader
}

// fromUrl: the `backend` query parameter (null when absent); stored: the remembered choice.
// A bad value in the address is a reader's typo or an old link: say so and use auto, rather than
// fail or silently keep a remembered choice the reader did not ask for in this address.
export function resolveBackendSetting(fromUrl: string | null, stored: string | null): BackendSetting {
  if (fromUrl !== null) {
    const value = fromUrl.trim().toLowerCase();
    if (isBackendChoice(value)) return { choice: value, problem: null };
    return {
      choice: 'auto',
      problem: `The address asks for backend “${fromUrl}”, which does not exist (use cpu, webgpu or auto). Using auto.`
    };
  }
  return { choice: isBackendChoice(stored) ? stored : 'auto', problem: null };
}

// What runs the model, in a few words: "CPU", or "WebGPU — <adapter>". The WebGPU backend names
// its device "WebGPU (vendor, architecture, ...)".
export function backendLabel(backend: BackendName, device: string): string {
  if (backend === 'cpu') return 'CPU';
  const adapter = /^WebGPU \((.*)\)$/.exec(device)?.[1] ?? device;
  return adapter ? `WebGPU — ${adapter}` : 'WebGPU';
}

// How the CPU backend computes, from its device description "CPU (how)": WebAssembly SIMD, or
// plain JavaScript where the browser has no SIMD.
export function cpuDetail(device: string): string {
  return /^CPU \((.*)\)$/.exec(device)?.[1] ?? device;
}

// Milliseconds per token of one forward pass: a prompt's pass computes all its tokens at once,
// a generation step's pass one token.
export function msPerToken(pass: { ms: number; tokens: number }): number {
  return pass.tokens > 0 ? pass.ms / pass.tokens : Number.NaN;
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms >= 100) return `${Math.round(ms)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}
