// The page's side of the engine worker. One worker serves every widget on the page; it is created,
// and the model downloaded, only when the first widget asks (widgets ask when they come near the
// viewport). `status`, `error`, `info`, `progress`, the backend and the last pass's timing are
// reactive, so widgets and the engine control can show them.
import { proxy, transfer, wrap, type Remote } from 'comlink';
import { base } from '$app/paths';
import { DEFAULT_MODEL } from '$lib/model';
import type {
  BackendInfo, EngineApi, GenerationSettings, GenerationStart, GenerationStep, LoadProgress, ModelInfo,
  NextTokenOptions, NextTokenResult, ParameterFileInfo, PassTiming, TensorValues
} from './api';
import { resolveBackendSetting, type BackendChoice, type BackendSetting } from './backend-setting';
import { readFolder, type FolderPlan, type ReadProgress } from './open-folder';

export type EngineStatus = 'idle' | 'loading' | 'ready' | 'error';

// An error from the worker, with the engine's code when it was an EngineError.
export interface EngineFailure {
  code: string | null;
  message: string;
}

export function failure(e: unknown): EngineFailure {
  if (e && typeof e === 'object' && 'message' in e) {
    const code = 'code' in e && typeof e.code === 'string' ? e.code : null;
    return { code, message: String(e.message) };
  }
  return { code: null, message: String(e) };
}

const storageKey = 'explorable-llm.backend';

export class EngineClient {
  status = $state<EngineStatus>('idle');
  error = $state<string | null>(null);
  info = $state.raw<ModelInfo | null>(null);
  progress = $state.raw<LoadProgress | null>(null);

  backendChoice = $state<BackendChoice>('auto'); // the reader's setting
  backend = $state.raw<BackendInfo | null>(null); // what runs, once the engine has started
  switching = $state(false);
  lastPass = $state.raw<PassTiming | null>(null);
  // Something the reader should know about the backend: a bad ?backend= value, WebGPU that was
  // asked for and could not start, or a GPU lost mid-session. Shown until dismissed.
  notice = $state<string | null>(null);
  // Counts runner changes: a generation's KV cache lives on its runner, so a widget holding one
  // starts again when this moves.
  backendEpoch = $state(0);
  // Counts models: the page's figures are rebuilt when the reader opens a model of their own.
  modelEpoch = $state(0);
  // Opening a reader's folder: how far the reading and preparing are.
  opening = $state.raw<{ phase: 'reading'; read: ReadProgress } | { phase: 'preparing'; tensors: number; total: number } | null>(null);
  #openAbort: AbortController | null = null;

  readonly modelUrl: string;
  #worker: Worker | null = null;
  #remote: Remote<EngineApi> | null = null;
  #ready: Promise<ModelInfo> | null = null;
  #applying: Promise<void> | null = null;

  // modelUrl: the folder holding config.json, model.safetensors and tokenizer.json
  constructor(modelUrl: string, setting: BackendSetting = { choice: 'auto', problem: null }) {
    this.modelUrl = modelUrl;
    this.backendChoice = setting.choice;
    this.notice = setting.problem;
  }

  // Start the worker and load the model, once; every later call gets the same promise.
  start(): Promise<ModelInfo> {
    this.#ready ??= this.#load();
    return this.#ready;
  }

  // After a failed load: a fresh worker and a fresh download.
  retry(): Promise<ModelInfo> {
    this.#worker?.terminate();
    this.#worker = this.#remote = this.#ready = null;
    this.backend = null;
    return this.start();
  }

  // Change the backend. Before the engine starts this only records the choice; after, the worker
  // builds the new runner (the model stays loaded) and every widget's text and settings stay.
  async setBackend(choice: BackendChoice): Promise<void> {
    this.backendChoice = choice;
    this.notice = null;
    try {
      localStorage.setItem(storageKey, choice);
    } catch {
      // storage may be disabled; the choice then lasts for this visit
    }
    if (this.status !== 'ready') return;
    try {
      await this.#applyBackend();
    } catch (e) {
      this.notice = `Could not switch the backend: ${failure(e).message}`;
      throw e;
    }
  }

  // Open the reader's model folder (planned by planFolder): read its files here, hand them to the
  // worker, which builds and checks the model beside the one in use. Until it is ready the figures
  // keep running the model they have; if anything fails, they keep it for good.
  async openModel(plan: FolderPlan): Promise<ModelInfo> {
    if (this.#openAbort) throw new Error('A model is already being opened.');
    const abort = new AbortController();
    this.#openAbort = abort;
    // a progress report from the worker can arrive after its answer: once this open is over, it
    // must not bring the progress back (it would stay on screen, and the buttons disabled)
    let over = false;
    try {
      this.opening = { phase: 'reading', read: { file: '', loaded: 0, total: plan.bytes } };
      const remote = await this.#started();
      const files = await readFolder(plan, (read) => void (over || (this.opening = { phase: 'reading', read })), abort.signal);
      if (abort.signal.aborted) throw Object.assign(new Error('Opening the model was cancelled; the model in use is unchanged.'), { code: 'cancelled' });
      this.opening = { phase: 'preparing', tensors: 0, total: 0 };
      const { info, backend } = await remote.open(
        transfer(files, Object.values(files)),
        plan.name,
        proxy((p: { tensors: number; total: number }) => void (over || (this.opening = { phase: 'preparing', ...p })))
      );
      this.info = info;
      this.backend = { ...backend, fallback: null };
      this.lastPass = null;
      this.backendEpoch++;
      this.modelEpoch++;
      return info;
    } finally {
      over = true;
      this.#openAbort = null;
      this.opening = null;
    }
  }

  // Back to the site's model after an opened one: downloaded again (the browser's cache usually
  // has it) and run on the backend in use.
  async useShipped(): Promise<ModelInfo> {
    const remote = await this.#started();
    const info = await remote.load(new URL(this.modelUrl, location.href).href, proxy((p: LoadProgress) => void (this.progress = p)));
    await this.#applyBackend();
    this.info = info;
    this.lastPass = null;
    this.modelEpoch++;
    return info;
  }

  // Stop an open in progress: the reading here, or the preparing in the worker.
  cancelOpen(): void {
    this.#openAbort?.abort();
    this.#remote?.cancelOpen().catch(() => {});
  }

  async nextToken(prompt: string, opts: NextTokenOptions): Promise<NextTokenResult> {
    const remote = await this.#started();
    const r = await remote.nextToken(prompt, opts);
    this.lastPass = r.pass;
    return r;
  }

  async appendToken(prompt: string, id: number): Promise<string> {
    const remote = await this.#started();
    return remote.appendToken(prompt, id);
  }

  async startGeneration(prompt: string, settings: GenerationSettings): Promise<GenerationStart> {
    const remote = await this.#started();
    return remote.startGeneration(prompt, settings);
  }

  async step(session: number): Promise<GenerationStep> {
    const remote = await this.#started();
    const s = await remote.step(session);
    this.lastPass = s.pass;
    return s;
  }

  async endGeneration(session: number): Promise<void> {
    const remote = await this.#started();
    return remote.endGeneration(session);
  }

  async parameterFile(): Promise<ParameterFileInfo> {
    const remote = await this.#started();
    return remote.parameterFile();
  }

  async tensorValues(name: string, count?: number): Promise<TensorValues> {
    const remote = await this.#started();
    return remote.tensorValues(name, count);
  }

  // Any engine call by name, typed from the API: what a chapter's figures use for the questions
  // they add (see api.ts), so the client does not grow a wrapper for each.
  async call<K extends keyof EngineApi>(method: K, ...args: Parameters<EngineApi[K]>): Promise<Awaited<ReturnType<EngineApi[K]>>> {
    const remote = await this.#started();
    const fn = remote[method] as unknown as (...a: Parameters<EngineApi[K]>) => Promise<Awaited<ReturnType<EngineApi[K]>>>;
    const r = await fn(...args);
    const pass = (r as { pass?: PassTiming } | null)?.pass;
    if (pass) this.lastPass = pass;
    return r;
  }

  async #started(): Promise<Remote<EngineApi>> {
    await this.start();
    // a switch in progress: calls go to the new runner
    if (this.#applying) await this.#applying;
    return this.#remote!;
  }

  // Bring the worker's runner in line with backendChoice. The choice may change while a runner is
  // being built (a reader clicking through the options); the loop ends on the latest one.
  #applyBackend(): Promise<void> {
    this.#applying ??= (async () => {
      this.switching = true;
      try {
        for (;;) {
          const choice = this.backendChoice;
          const info = await this.#remote!.setBackend(choice, proxy((lost: BackendInfo) => this.#fellBack(lost)));
          if (choice !== this.backendChoice) continue;
          this.backend = info;
          this.backendEpoch++;
          // auto that finds no usable GPU is working as meant; WebGPU asked for and refused is news
          if (info.fallback && choice === 'webgpu') this.notice = info.fallback;
          return;
        }
      } finally {
        this.switching = false;
        this.#applying = null;
      }
    })();
    return this.#applying;
  }

  // The GPU failed mid-session and the worker moved to the CPU.
  #fellBack(info: BackendInfo) {
    this.backend = info;
    this.notice = info.fallback;
  }

  async #load(): Promise<ModelInfo> {
    this.status = 'loading';
    this.error = null;
    this.progress = null;
    try {
      const worker = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module' });
      // A worker that fails to start (a syntax error, a missing module) reports here, not as a
      // rejected call, so turn it into one.
      const crashed = new Promise<never>((_, reject) => {
        worker.addEventListener('error', (e) => reject(new Error(`The engine worker failed to start: ${e.message || 'unknown error'}`)));
      });
      this.#worker = worker;
      this.#remote = wrap<EngineApi>(worker);
      const url = new URL(this.modelUrl, location.href).href;
      const info = await Promise.race([
        this.#remote.load(url, proxy((p: LoadProgress) => void (this.progress = p))),
        crashed
      ]);
      this.info = info;
      await Promise.race([this.#applyBackend(), crashed]);
      this.status = 'ready';
      return info;
    } catch (e) {
      this.error = failure(e).message;
      this.status = 'error';
      throw e;
    }
  }
}

// The backend a visit starts with: ?backend= in the address, else the reader's last choice.
function initialBackend(): BackendSetting {
  if (typeof location === 'undefined') return { choice: 'auto', problem: null };
  let stored: string | null = null;
  try {
    stored = localStorage.getItem(storageKey);
  } catch {
    // no storage: nothing remembered
  }
  const fromUrl = new URLSearchParams(location.search).getAll('backend');
  return resolveBackendSetting(fromUrl.length > 0 ? fromUrl : null, stored);
}

let shared: EngineClient | null = null;

// The engine every widget uses unless it is given another: created on first use, in the browser.
export function getEngine(): EngineClient {
  shared ??= new EngineClient(`${base}/models/${DEFAULT_MODEL}`, initialBackend());
  return shared;
}
