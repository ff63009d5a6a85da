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

// A value from the address, as the reader can read it in a message: control characters shown as
// U+FFFD and a long value cut, so a mangled or hostile link can neither hide text nor widen the page.
function quoted(value: string): string {
  const clean = value.replace(/[\u0000-\u001f\u007f-\u009f]/g, '\ufffd');
  const chars = Array.from(clean); // by code point, so a cut never splits a surrogate pair
  return `“${chars.length > 24 ? `${chars.slice(0, 24).join('')}…` : clean}”`;
}

// fromUrl: the `backend` query parameter: null when absent, every value when repeated
// (`URLSearchParams.getAll`); stored: the remembered choice.
// A bad value in the address is a reader's typo or an old link: say so and use auto, rather than
// fail or silently keep a remembered choice the reader did not ask for in this address. A link
// naming two different backends takes the first, and says so.
export function resolveBackendSetting(fromUrl: string | readonly string[] | null, stored: string | null): BackendSetting {
  const values = fromUrl === null ? [] : typeof fromUrl === 'string' ? [fromUrl] : fromUrl;
  if (values.length === 0) return { choice: isBackendChoice(stored) ? stored : 'auto', problem: null };
  const first = values[0];
  const distinct = new Set(values.map((v) => v.trim().toLowerCase()));
  const repeated = distinct.size > 1 ? `The address names the backend ${values.length} times (${values.slice(0, 3).map(quoted).join(', ')}${values.length > 3 ? ', …' : ''}); the first counts. ` : '';
  const value = first.trim().toLowerCase();
  if (isBackendChoice(value)) return { choice: value, problem: repeated ? `${repeated}Using ${value}.` : null };
  const what = value === '' ? 'The address gives backend no value' : `The address asks for backend ${quoted(first)}, which does not exist`;
  return { choice: 'auto', problem: `${repeated}${what} (use cpu, webgpu or auto). Using auto.` };
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
