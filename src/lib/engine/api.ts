// What the engine worker can be asked. Plain functions over the engine, with no knowledge of
// workers or of the page, so they run the same in a Web Worker, in Node tests and in a script.
// To add a call: add a method to the object createEngineApi returns; the client's `remote` is
// typed from it.
//
// The model runs on a Runner (engine/backend.ts): the CPU reference or WebGPU. Every call that
// runs the model waits for the one before it, so a backend switch never pulls a runner from under
// a forward pass.
import { createRunner, type BackendName, type Runner } from '../../../engine/backend';
import { EngineError } from '../../../engine/errors';
import { generate, type Step, type StopReason } from '../../../engine/generate';
import { checkTokens } from '../../../engine/gpt';
import { loadModel, type Model } from '../../../engine/model';
import { loadFolder, type FolderFiles } from '../../../engine/model-folder';
import { checkSampling, distribution } from '../../../engine/sampling';
import type { GPTConfig } from '../../../engine/config';
import { isBackendChoice, type BackendChoice } from './backend-setting';
import { readLayout, type FileLayout } from './parameter-file';
import { createInspectApi } from './inspect';
import { createTokensApi } from './tokens';
import { createSamplingApi } from './sampling';
import { createHeadsApi } from './heads';
import { createEmbeddingsApi } from './embeddings';
import { createBlockApi } from './block';
import { createGenerationApi } from './generation';
import { createTrainingApi } from './training';
import { createFilesApi } from './files';

// The engine's state as the chapter-specific calls see it. Each figure family adds its calls in a
// file of its own (inspect.ts: traces of the forward pass) that takes this context, and
// createEngineApi spreads them in, so a new kind of question never edits the core.
export interface EngineContext {
  requireModel(): Model;
  requireRunner(): Runner;
  serial<T>(work: () => Promise<T>): Promise<T>; // runs after every call before it
  timing(): PassTiming; // the last forward pass
  tokenString(id: number): string;
}

export interface ModelInfo {
  name: string;
  config: GPTConfig;
  nParams: number;
  isRandom: boolean; // config.json says the weights are a random initialisation, not trained
  opened: boolean; // the reader's own folder, opened from disk, rather than the site's model
}

// Opening a reader's folder: its files, by name, as the page read them; the preparing after.
export interface OpenProgress {
  tensors: number; // parameter tensors checked and converted so far
  total: number;
}

export interface LoadProgress {
  file: string; // which file is on its way
  loaded: number; // bytes so far
  total: number | null; // bytes in all, when the server says
}

export interface BackendInfo {
  choice: BackendChoice; // what was asked for
  backend: BackendName; // what runs
  device: string; // what runs it, in words
  fallback: string | null; // why it runs on the CPU although WebGPU was asked for or allowed
}

// One forward pass, measured in the worker around the runner's call (with WebGPU that includes
// the readback of the logits).
export interface PassTiming {
  ms: number;
  tokens: number; // tokens the pass computed (the rest, if any, came from the KV cache)
  backend: BackendName;
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
  pass: PassTiming;
}

export interface GenerationSettings {
  temperature: number;
  topK?: number;
  topP?: number;
  seed: number; // an integer in [0, 2^32): the same seed gives the same text
  maxTokens: number;
  topN?: number; // how many of the most likely tokens each step reports; default 8
}

export interface GenerationStart {
  session: number;
  ids: number[]; // the prompt's token ids
  pieces: string[];
}

export interface StepChoice {
  id: number;
  text: string;
  pFull: number; // probability after temperature alone, before top-k / top-p cut the list
  p: number; // probability it was drawn with: renormalised over the kept set, 0 outside it
  kept: boolean;
}

export interface GenerationStep {
  index: number; // 1 for the first new token
  context: number[]; // the ids the model saw for this step
  fed: number; // tokens this step's forward pass computed; the others' keys and values were cached
  top: StepChoice[]; // the most likely tokens before the cut, most likely first
  keptCount: number; // size of the set the token was drawn from
  keptMass: number; // probability that set held before renormalising
  chosen: number;
  chosenText: string;
  cacheLength: number; // tokens in the KV cache after this step's pass
  stop: StopReason | null; // set on the last step
  pass: PassTiming;
}

export interface ParameterFileInfo extends FileLayout {
  nParams: number; // numbers in the file's parameter tensors
}

export interface TensorValues {
  name: string;
  shape: number[];
  values: number[]; // the first ones, in the file's row-major order
}

interface Session {
  steps: AsyncGenerator<Step, StopReason>;
  settings: GenerationSettings;
  index: number;
  done: boolean;
}

// A KV cache holds n_layer × 2 × n_positions × C numbers; a page needs one or two sessions at a
// time, so the oldest beyond this are dropped rather than kept for a reader who moved on.
const maxSessions = 4;

type Fetch = (url: string) => Promise<Response>;

export function createEngineApi(fetchFile: Fetch = (url) => fetch(url)) {
  let model: Model | null = null;
  let layout: FileLayout | null = null;
  let runner: Runner | null = null;
  let runnerEpoch = 0; // which runner a fallback report is about
  let lastPass: PassTiming | null = null;
  const sessions = new Map<number, Session>();
  let nextSession = 1;
  let choiceInUse: BackendChoice = 'auto'; // the last setBackend's choice: an opened model runs on it too
  let opening: { aborted: boolean } | null = null;

  let queue: Promise<unknown> = Promise.resolve();
  function serial<T>(work: () => Promise<T>): Promise<T> {
    const result = queue.then(work);
    queue = result.catch(() => undefined);
    return result;
  }

  function requireModel(): Model {
    if (!model) throw new EngineError('not_loaded', 'No model is loaded yet.');
    return model;
  }

  function requireRunner(): Runner {
    requireModel();
    if (!runner) throw new EngineError('no_backend', 'No backend is running yet: call setBackend first.');
    return runner;
  }

  // Every forward pass goes through here, so the page can show what the last one cost.
  function observed(inner: Runner): Runner {
    return {
      get backend() {
        return inner.backend;
      },
      get device() {
        return inner.device;
      },
      createCache: () => inner.createCache(),
      async forward(ids, opts) {
        const t0 = performance.now();
        const result = await inner.forward(ids, opts);
        lastPass = { ms: performance.now() - t0, tokens: ids.length, backend: inner.backend };
        return result;
      },
      dispose: () => inner.dispose()
    };
  }

  function timing(): PassTiming {
    return { ...lastPass! };
  }

  // Every way a download can fail (no answer, an error status, an abort, a connection that breaks
  // off midway) ends here as download_failed, with a message a reader can act on.
  async function download(url: string, file: string, onProgress?: (p: LoadProgress) => void): Promise<Uint8Array> {
    const why = (e: unknown) => (e instanceof Error && e.name === 'AbortError' ? 'the download was aborted' : e instanceof Error ? e.message : String(e));
    let response: Response;
    try {
      response = await fetchFile(url);
    } catch (e) {
      throw new EngineError('download_failed', `Could not download ${file}: ${why(e)}. Check the connection and try again.`);
    }
    if (!response.ok) {
      throw new EngineError('download_failed', `Could not download ${file}: the server answered ${response.status}.`);
    }
    // the length the server announced, when it is the length of the bytes we get (not compressed)
    const encoding = response.headers.get('content-encoding');
    const total = (!encoding || encoding === 'identity' ? Number(response.headers.get('content-length')) : 0) || null;
    let loaded = 0;
    const brokeOff = (e: unknown) =>
      new EngineError(
        'download_failed',
        `The download of ${file} broke off after ${loaded.toLocaleString('en')}${total ? ` of ${total.toLocaleString('en')}` : ''} bytes (${why(e)}). Try again.`
      );
    if (!response.body || !onProgress) {
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await response.arrayBuffer());
      } catch (e) {
        throw brokeOff(e);
      }
      loaded = bytes.length;
      if (total !== null && loaded < total) throw brokeOff('the file ended early');
      return bytes;
    }
    // Read the stream ourselves so the page can show how far the download is.
    const chunks: Uint8Array[] = [];
    const reader = response.body.getReader();
    for (;;) {
      let part: ReadableStreamReadResult<Uint8Array>;
      try {
        part = await reader.read();
      } catch (e) {
        throw brokeOff(e);
      }
      if (part.done) break;
      chunks.push(part.value);
      loaded += part.value.length;
      onProgress({ file, loaded, total });
    }
    if (total !== null && loaded < total) throw brokeOff('the file ended early');
    const bytes = new Uint8Array(loaded);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    return bytes;
  }

  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

  // What the chapters' own calls (./inspect.ts and its siblings) need of this engine.
  const context: EngineContext = {
    requireModel,
    requireRunner,
    serial,
    timing: () => timing(),
    tokenString: (id) => tokenString(requireModel(), id)
  };

  return {
    ...createInspectApi(context),
    ...createTokensApi(context),
    ...createSamplingApi(context),
    ...createHeadsApi(context),
    ...createEmbeddingsApi(context),
    ...createBlockApi(context),
    ...createGenerationApi(context),
    ...createTrainingApi(context),
    ...createFilesApi(context),

    // Download a model's three files from baseUrl (a folder URL) and build it. It runs nowhere
    // until setBackend is called.
    async load(baseUrl: string, onProgress?: (p: LoadProgress) => void): Promise<ModelInfo> {
      const root = baseUrl.replace(/\/+$/, '');
      const [config, safetensors, tokenizer] = await Promise.all([
        download(`${root}/config.json`, 'config.json', onProgress),
        download(`${root}/model.safetensors`, 'model.safetensors', onProgress),
        download(`${root}/tokenizer.json`, 'tokenizer.json', onProgress)
      ]);
      const loaded = loadModel({ config: text(config), safetensors, tokenizer: text(tokenizer) });
      // loadModel has checked the whole file; the layout is only its header, kept to show it
      layout = readLayout(safetensors);
      model = loaded;
      return describe(model, root.split('/').pop() ?? root, false);
    },

    // A model folder the reader opened: its files' bytes by name (transferred from the page, never
    // fetched). The new model is built and checked in full beside the one in use, which stays in
    // use until the new one is ready, and stays for good if anything is wrong with the folder.
    // Then the new model runs on the backend the reader chose, and every generation ends.
    async open(files: Record<string, ArrayBuffer>, folderName: string, onProgress?: (p: OpenProgress) => void): Promise<{ info: ModelInfo; backend: BackendInfo }> {
      if (opening) throw new EngineError('busy', 'Another model is being opened; wait for it or cancel it first.');
      const signal = { aborted: false };
      opening = signal;
      try {
        const bytes: FolderFiles = {};
        for (const [name, b] of Object.entries(files)) bytes[name] = new Uint8Array(b);
        const loaded = await loadFolder(bytes, { onProgress, signal });
        const safetensors = Object.entries(bytes).find(([n]) => /(^|[/\\])model\.safetensors$/.test(n))![1];
        const newLayout = readLayout(safetensors);
        return await serial(async () => {
          if (signal.aborted) throw new EngineError('cancelled', 'Opening the model was cancelled; the model in use is unchanged.');
          const next = await createRunner(loaded, { backend: choiceInUse }).catch(async (e) => {
            if (!(e instanceof EngineError && e.code === 'no_webgpu')) throw e;
            return createRunner(loaded, { backend: 'cpu' });
          });
          sessions.clear();
          runner?.dispose();
          runnerEpoch++;
          runner = observed(next);
          model = loaded;
          layout = newLayout;
          lastPass = null;
          return {
            info: describe(loaded, folderName, true),
            backend: { choice: choiceInUse, backend: next.backend, device: next.device, fallback: null }
          };
        });
      } finally {
        opening = null;
      }
    },

    // Stop the open in progress between two tensors; the model in use stays.
    cancelOpen(): void {
      if (opening) opening.aborted = true;
    },

    // Run the model on `choice` from now on. `auto` takes WebGPU when it starts and the CPU when
    // not; `webgpu` that cannot start also ends on the CPU, with the reason in `fallback`. Ongoing
    // generations end (their caches lived on the old runner). onChange hears of a later move to
    // the CPU, when the GPU fails mid-session.
    setBackend(choice: BackendChoice, onChange?: (info: BackendInfo) => void): Promise<BackendInfo> {
      return serial(async () => {
        if (!isBackendChoice(choice)) throw new EngineError('bad_backend', `Unknown backend "${String(choice)}": use cpu, webgpu or auto.`);
        const m = requireModel();
        choiceInUse = choice;
        sessions.clear();
        runner?.dispose();
        runner = null;
        const epoch = ++runnerEpoch;
        let started = false;
        let fallback: string | null = null;
        const onFallback = (reason: string) => {
          if (epoch !== runnerEpoch) return; // a runner already replaced
          fallback = reason;
          if (!started || !runner) return; // told in the answer below
          onChange?.({ choice, backend: runner.backend, device: runner.device, fallback });
        };
        let inner: Runner;
        try {
          inner = await createRunner(m, { backend: choice, onFallback });
        } catch (e) {
          if (!(e instanceof EngineError && e.code === 'no_webgpu')) throw e;
          fallback = `${e.message}. Running on the CPU instead.`;
          inner = await createRunner(m, { backend: 'cpu' });
        }
        runner = observed(inner);
        started = true;
        return { choice, backend: inner.backend, device: inner.device, fallback };
      });
    },

    // The distribution over the next token after `prompt`: one forward pass, last position only.
    nextToken(prompt: string, opts: NextTokenOptions): Promise<NextTokenResult> {
      return serial(async () => {
        const r = requireRunner();
        const m = model!;
        const all = m.tokenizer.encode(prompt);
        // The model sees at most n_positions tokens; a longer prompt keeps its end, as chat
        // front-ends do, and the caller is told how much fell off.
        const dropped = Math.max(0, all.length - m.config.n_positions);
        const ids = all.slice(dropped);
        checkTokens(m.config, ids);
        const { logits } = await r.forward(ids, { lastOnly: true }); // (1, V)
        const { temperature, topK, topP, n = 10 } = opts;
        const dist = distribution(logits, { temperature, topK, topP });
        const top = Array.from(dist.kept.subarray(0, n), (id) => ({
          id,
          text: tokenString(m, id),
          p: dist.probs[id],
          logit: logits[id]
        }));
        return { ids, pieces: ids.map((id) => tokenString(m, id)), dropped, keptMass: dist.keptMass, top, pass: timing() };
      });
    },

    // The prompt with one more token on the end, as text. Joined as ids and decoded together, so a
    // token holding the second half of a character completes it instead of showing as bytes.
    appendToken(prompt: string, id: number): string {
      const m = requireModel();
      return m.tokenizer.decode([...m.tokenizer.encode(prompt), id]);
    },

    // A generation from `prompt`, run one step at a time with step(session): the same loop, KV
    // cache and seeded sampling as `npm run generate`. Settings are checked here, so a bad one is
    // reported before any step.
    startGeneration(prompt: string, settings: GenerationSettings): GenerationStart {
      const r = requireRunner();
      const m = model!;
      const { temperature, topK, topP, seed } = settings;
      checkSampling({ temperature, topK, topP });
      if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) {
        throw new EngineError('bad_seed', `The seed must be a whole number from 0 to ${2 ** 32 - 1}, got ${seed}.`);
      }
      if (!Number.isInteger(settings.maxTokens) || settings.maxTokens < 1) {
        throw new EngineError('bad_max_tokens', `The number of new tokens must be a whole number of at least 1, got ${settings.maxTokens}.`);
      }
      const ids = m.tokenizer.encode(prompt);
      checkTokens(m.config, ids);
      const session = nextSession++;
      const steps = generate(r, m.config, ids, { ...settings, topN: settings.topN ?? 8 });
      sessions.set(session, { steps, settings, index: 0, done: false });
      for (const old of sessions.keys()) if (sessions.size > maxSessions) sessions.delete(old);
      return { session, ids, pieces: ids.map((id) => tokenString(m, id)) };
    },

    // One more token: one forward pass, the distribution, the draw.
    step(session: number): Promise<GenerationStep> {
      return serial(async () => {
        const m = requireModel();
        const s = sessions.get(session);
        if (!s) throw new EngineError('no_session', 'This generation has ended (the backend changed, or it was replaced): start it again.');
        if (s.done) throw new EngineError('generation_over', 'This generation has already stopped.');
        const next = await s.steps.next();
        if (next.done) throw new EngineError('generation_over', 'This generation has already stopped.');
        const step = next.value;
        s.index++;
        s.done = step.stop !== undefined;
        // The distribution the token was drawn from, as generate() used it: the kept set first,
        // then the most likely of what top-k and top-p cut, to show what the cut took away.
        const { dist } = step;
        const n = s.settings.topN ?? 8;
        const top = Array.from(dist.order.subarray(0, Math.max(n, 0)), (id, rank) => ({
          id,
          text: tokenString(m, id),
          pFull: dist.full[id],
          p: dist.probs[id],
          kept: rank < dist.kept.length
        }));
        return {
          index: s.index,
          context: step.context,
          fed: step.fed,
          top,
          keptCount: dist.kept.length,
          keptMass: step.keptMass,
          chosen: step.chosen,
          chosenText: tokenString(m, step.chosen),
          cacheLength: step.cacheLength,
          stop: step.stop ?? null,
          pass: timing()
        };
      });
    },

    endGeneration(session: number): void {
      sessions.delete(session);
    },

    // The parameter file as it lies on disk: its header's tensors and sizes.
    parameterFile(): ParameterFileInfo {
      requireModel();
      const l = layout!;
      return { ...l, nParams: l.tensors.reduce((n, t) => n + (t.isParam ? t.count : 0), 0) };
    },

    // The first numbers of one tensor of the file, as the engine read them.
    tensorValues(name: string, count = 12): TensorValues {
      const m = requireModel();
      const entry = layout!.tensors.find((t) => t.name === name);
      if (!entry) throw new EngineError('no_tensor', `The parameter file has no tensor "${name}".`);
      const data = m.params[entry.key];
      if (!entry.isParam || !data) throw new EngineError('no_tensor', `"${name}" is not one of the model's parameters.`);
      return { name, shape: entry.shape, values: Array.from(data.subarray(0, Math.max(0, count))) };
    }
  };
}

function describe(m: Model, fallbackName: string, opened: boolean): ModelInfo {
  const meta = m.meta;
  return {
    name: typeof meta.explorable_name === 'string' ? meta.explorable_name : fallbackName,
    config: m.config,
    nParams: m.nParams,
    isRandom: meta.explorable_random_init === true,
    opened
  };
}

// A token's text. The model's vocabulary may be larger than the tokenizer's (padding rows that
// no text encodes to); those get a visible placeholder rather than an exception.
function tokenString(m: Model, id: number): string {
  return id < m.tokenizer.vocabSize ? m.tokenizer.tokenText(id) : `<unused ${id}>`;
}

export type EngineApi = ReturnType<typeof createEngineApi>;
