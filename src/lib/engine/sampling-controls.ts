// The sampling settings as a reader sets them (sliders and boxes) and as the engine takes them.
import type { GenerationSettings } from './api';

// A temperature of exactly 0 would divide the logits by zero; the engine takes any temperature
// below its MIN_TEMPERATURE as greedy, and the command line asks for greedy with this one.
export const greedyTemperature = 1e-9;

export interface SamplingControls {
  temperature: number; // the slider: 0 means greedy
  topK: number | null | undefined; // an empty box: no top-k
  topP: number; // 1: no top-p
  seed: number | null | undefined;
  maxTokens: number | null | undefined;
}

// Empty boxes become NaN rather than a default, so the engine says what is missing instead of
// running with a number the reader did not type.
export function generationSettings(c: SamplingControls, topN: number): GenerationSettings {
  return {
    temperature: c.temperature === 0 ? greedyTemperature : c.temperature,
    topK: c.topK ?? undefined,
    topP: c.topP,
    seed: c.seed ?? Number.NaN,
    maxTokens: c.maxTokens ?? Number.NaN,
    topN
  };
}

export function temperatureLabel(t: number): string {
  return t === 0 ? '0 (greedy)' : t.toFixed(2);
}
