// The MLP's neurons and the text that excites them. Each block widens the stream from C to 4C
// numbers and applies GELU; each of those 4C numbers (mlp.act) is a "neuron". Running the model
// over a fixed sample of text and keeping, per neuron, the few tokens with the largest activation
// gives a first guess at what it responds to. Pure: the caller supplies the forward pass.
import type { GPTConfig } from './config';
import { paramShapes } from './config';
import type { Params, Trace } from './gpt';
import { EngineError } from './errors';

// One entry of a neuron's list: token t of sample window w excited it with activation act.
export interface NeuronExample {
  window: number;
  t: number;
  act: number;
}

// The sample `npm run neurons` and the page use: this many held-out paragraphs, the first `tokens`
// tokens of each (fewer when the model's context is shorter), the k largest activations a neuron.
export const neuronSampleDefaults = { windows: 64, tokens: 128, k: 8 };

export function neuronSampleSource(windows: number, T: number): string {
  return `${windows} held-out paragraphs of the Brown corpus (the first ${T} tokens of each)`;
}

// The sample: windows of at most T tokens, taken from paragraphs spread evenly over the list
// (the first T tokens of each), so the examples do not all come from one text.
export function sampleWindows(paragraphs: readonly string[], encode: (s: string) => number[], count: number, T: number): number[][] {
  if (paragraphs.length === 0) throw new EngineError('empty_sample', 'The neuron sample needs at least one paragraph of text.');
  const windows: number[][] = [];
  const step = Math.max(1, paragraphs.length / count);
  for (let i = 0; windows.length < count && Math.floor(i * step) < paragraphs.length; i++) {
    const ids = encode(paragraphs[Math.floor(i * step)]).slice(0, T);
    if (ids.length >= 8) windows.push(ids); // a title or a stray line gives no context to show
  }
  return windows;
}

// Per layer, per neuron (4C of them), the k largest activations over all windows, largest first
// (ties: earlier window and token first). `trace` runs the model over one window with mlp.act kept.
export async function topActivations(
  config: GPTConfig, windows: readonly number[][], k: number,
  trace: (ids: readonly number[]) => Promise<Trace>,
  onWindow?: (done: number, total: number) => void
): Promise<NeuronExample[][][]> {
  const L = config.n_layer;
  const F = 4 * config.n_embd; // neurons per layer
  const best: NeuronExample[][][] = Array.from({ length: L }, () => Array.from({ length: F }, () => []));
  for (let w = 0; w < windows.length; w++) {
    const tr = await trace(windows[w]);
    const T = windows[w].length;
    for (let l = 0; l < L; l++) {
      const act = tr.layers[l]['mlp.act']!.data; // (T, 4C)
      for (let f = 0; f < F; f++) {
        const list = best[l][f];
        for (let t = 0; t < T; t++) {
          const a = act[t * F + f];
          if (list.length === k && a <= list[k - 1].act) continue;
          let i = list.length;
          while (i > 0 && list[i - 1].act < a) i--;
          list.splice(i, 0, { window: w, t, act: a });
          if (list.length > k) list.pop();
        }
      }
    }
    onWindow?.(w + 1, windows.length);
  }
  return best;
}

// A short fingerprint of a model's weights (FNV-1a over every parameter's bytes, in the order of
// paramShapes), so a file computed from one model is not shown as if it described another.
export function fingerprint(config: GPTConfig, params: Params): string {
  let h = 0x811c9dc5;
  for (const [name] of paramShapes(config)) {
    const a = params[name];
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    for (let i = 0; i < bytes.length; i++) {
      h ^= bytes[i];
      h = Math.imul(h, 0x01000193);
    }
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

// static/models/<name>/neurons.json, as `npm run neurons` writes it and the site reads it.
export interface NeuronsFile {
  model: string;
  fingerprint: string;
  source: string; // where the sample comes from, in words
  k: number;
  windows: number[][]; // the sample's token ids
  layers: number[][][]; // [layer][neuron] = [window, t, act, window, t, act, ...], largest first
}

export function packNeurons(model: string, fp: string, source: string, k: number, windows: number[][], best: NeuronExample[][][]): NeuronsFile {
  // four decimals keep the file small and are more than a figure shows
  // (and -0, which JSON writes as 0, is 0 here too, so the file and a result kept in memory agree)
  const round = (x: number) => Math.round(x * 1e4) / 1e4 || 0;
  return { model, fingerprint: fp, source, k, windows, layers: best.map((layer) => layer.map((list) => list.flatMap((e) => [e.window, e.t, round(e.act)]))) };
}

export function unpackNeuron(file: NeuronsFile, layer: number, neuron: number): NeuronExample[] {
  const flat = file.layers[layer]?.[neuron];
  if (!flat) throw new EngineError('no_neuron', `The neuron file has no neuron ${neuron} in layer ${layer}.`);
  const out: NeuronExample[] = [];
  for (let i = 0; i < flat.length; i += 3) out.push({ window: flat[i], t: flat[i + 1], act: flat[i + 2] });
  return out;
}
