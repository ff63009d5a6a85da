// The sampling settings as a reader sets them (sliders and boxes) and as the engine takes them.
import type { GenerationSettings } from './api';

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
    temperature: c.temperature, // 0 is greedy, in the engine as on the slider
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

// The settings a reader types into a box. A box holding text the browser cannot read as a number
// (a lone "-", "1e" half typed) reports itself empty, which must neither read as "no top-k" nor
// reach the engine as NaN: the figure says so in words instead.
export type NumberBox = 'topK' | 'seed' | 'maxTokens';
export type SettingName = NumberBox | 'temperature' | 'topP';

export interface ControlsProblem {
  box: SettingName;
  message: string;
}

const boxNames: Record<NumberBox, string> = { topK: 'top-k', seed: 'seed', maxTokens: 'max new tokens' };
const boxWants: Record<NumberBox, string> = {
  topK: 'a whole number of at least 1, or nothing for no top-k',
  seed: `a whole number from 0 to ${2 ** 32 - 1}`,
  maxTokens: 'a whole number of at least 1'
};

// What keeps the boxes from being sent as they are, or null. Only what never reaches the engine
// as a number is caught here; ranges are the engine's to check (it knows the model's limits).
export function controlsProblem(c: SamplingControls, unreadable: Record<NumberBox, boolean>): ControlsProblem | null {
  for (const box of ['topK', 'seed', 'maxTokens'] as const) {
    if (unreadable[box]) return { box, message: `The ${boxNames[box]} box does not hold a number: type ${boxWants[box]}.` };
    if (box !== 'topK' && c[box] == null) return { box, message: `The ${boxNames[box]} box is empty: type ${boxWants[box]}.` };
  }
  return null;
}

// The setting an engine error is about, from its code, so that box can be marked invalid.
export function settingOfError(code: string | null): SettingName | null {
  switch (code) {
    case 'bad_temperature':
      return 'temperature';
    case 'bad_top_k':
      return 'topK';
    case 'bad_top_p':
      return 'topP';
    case 'bad_seed':
      return 'seed';
    case 'bad_max_tokens':
      return 'maxTokens';
    default:
      return null;
  }
}
