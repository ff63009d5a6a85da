// What the engine worker can be asked. Plain functions over the engine, with no knowledge of
// workers or of the page, so they run the same in a Web Worker, in Node tests and in a script.
// To add a call: add a method to the object createEngineApi returns; the client's `remote` is
// typed from it.
import { EngineError } from '../../../engine/errors';
import { forward } from '../../../engine/gpt';
import { loadModel, type Model } from '../../../engine/model';
import { distribution } from '../../../engine/sampling';
import type { GPTConfig } from '../../../engine/config';

export interface ModelInfo {
  name: string;
  config: GPTConfig;
  nParams: number;
  isRandom: boolean; // config.json says the weights are a random initialisation, not trained
}

export interface LoadProgress {
  file: string; // which file is on its way
  loaded: number; // bytes so far
  total: number | null; // bytes in all, when the server says
}

export interface NextTokenOptions {
  temperature: number;
  topK?: number;
  topP?: number;
  n?: number; // how many of the most likely tokens to return; default 10
}

export interface TokenChoice {
  id: number;
  text: string; // the token's text for display (a lone byte of a character shows as <0xE2>)
  p: number; // probability after temperature, top-k and top-p
  logit: number; // raw score before softmax
}

export interface NextTokenResult {
  ids: number[]; // the prompt's token ids, as the model saw them
  pieces: string[]; // the text of each of those tokens
  dropped: number; // tokens cut from the front because the prompt was longer than the context
  keptMass: number; // probability the top-k / top-p set held before renormalising
  top: TokenChoice[]; // most likely first
}

type Fetch = (url: string) => Promise<Response>;

export function createEngineApi(fetchFile: Fetch = (url) => fetch(url)) {
  let model: Model | null = null;

  function requireModel(): Model {
    if (!model) throw new EngineError('not_loaded', 'No model is loaded yet.');
    return model;
  }

  async function download(url: string, file: string, onProgress?: (p: LoadProgress) => void): Promise<Uint8Array> {
    let response: Response;
    try {
      response = await fetchFile(url);
    } catch (e) {
      throw new EngineError('download_failed', `Could not download ${file}: ${(e as Error).message}`);
    }
    if (!response.ok) {
      throw new EngineError('download_failed', `Could not download ${file}: the server answered ${response.status}.`);
    }
    const total = Number(response.headers.get('content-length')) || null;
    if (!response.body || !onProgress) return new Uint8Array(await response.arrayBuffer());
    // Read the stream ourselves so the page can show how far the download is.
    const chunks: Uint8Array[] = [];
    let loaded = 0;
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      loaded += value.length;
      onProgress({ file, loaded, total });
    }
    const bytes = new Uint8Array(loaded);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    return bytes;
  }

  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

  return {
    // Download a model's three files from baseUrl (a folder URL) and build it.
    async load(baseUrl: string, onProgress?: (p: LoadProgress) => void): Promise<ModelInfo> {
      const root = baseUrl.replace(/\/+$/, '');
      const [config, safetensors, tokenizer] = await Promise.all([
        download(`${root}/config.json`, 'config.json', onProgress),
        download(`${root}/model.safetensors`, 'model.safetensors', onProgress),
        download(`${root}/tokenizer.json`, 'tokenizer.json', onProgress)
      ]);
      model = loadModel({ config: text(config), safetensors, tokenizer: text(tokenizer) });
      const meta = model.meta;
      return {
        name: typeof meta.explorable_name === 'string' ? meta.explorable_name : (root.split('/').pop() ?? root),
        config: model.config,
        nParams: model.nParams,
        isRandom: meta.explorable_random_init === true
      };
    },

    // The distribution over the next token after `prompt`: one forward pass, last position only.
    nextToken(prompt: string, opts: NextTokenOptions): NextTokenResult {
      const m = requireModel();
      const all = m.tokenizer.encode(prompt);
      // The model sees at most n_positions tokens; a longer prompt keeps its end, as chat
      // front-ends do, and the caller is told how much fell off.
      const dropped = Math.max(0, all.length - m.config.n_positions);
      const ids = all.slice(dropped);
      const { logits } = forward(m, ids, { lastOnly: true }); // (1, V)
      const { temperature, topK, topP, n = 10 } = opts;
      const dist = distribution(logits, { temperature, topK, topP });
      const top = Array.from(dist.kept.subarray(0, n), (id) => ({
        id,
        text: tokenString(m, id),
        p: dist.probs[id],
        logit: logits[id]
      }));
      return { ids, pieces: ids.map((id) => tokenString(m, id)), dropped, keptMass: dist.keptMass, top };
    },

    // The prompt with one more token on the end, as text. Joined as ids and decoded together, so a
    // token holding the second half of a character completes it instead of showing as bytes.
    appendToken(prompt: string, id: number): string {
      const m = requireModel();
      return m.tokenizer.decode([...m.tokenizer.encode(prompt), id]);
    }
  };
}

// A token's text. The model's vocabulary may be larger than the tokenizer's (padding rows that
// no text encodes to); those get a visible placeholder rather than an exception.
function tokenString(m: Model, id: number): string {
  return id < m.tokenizer.vocabSize ? m.tokenizer.tokenText(id) : `<unused ${id}>`;
}

export type EngineApi = ReturnType<typeof createEngineApi>;
