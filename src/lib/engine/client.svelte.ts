// The page's side of the engine worker. One worker serves every widget on the page; it is created,
// and the model downloaded, only when the first widget asks (widgets ask when they come near the
// viewport). `status`, `error`, `info` and `progress` are reactive, so widgets can show them.
import { proxy, wrap, type Remote } from 'comlink';
import { base } from '$app/paths';
import { DEFAULT_MODEL } from '$lib/model';
import type { EngineApi, LoadProgress, ModelInfo, NextTokenOptions, NextTokenResult } from './api';

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

export class EngineClient {
  status = $state<EngineStatus>('idle');
  error = $state<string | null>(null);
  info = $state.raw<ModelInfo | null>(null);
  progress = $state.raw<LoadProgress | null>(null);

  readonly modelUrl: string;
  #worker: Worker | null = null;
  #remote: Remote<EngineApi> | null = null;
  #ready: Promise<ModelInfo> | null = null;

  // modelUrl: the folder holding config.json, model.safetensors and tokenizer.json
  constructor(modelUrl: string) {
    this.modelUrl = modelUrl;
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
    return this.start();
  }

  async nextToken(prompt: string, opts: NextTokenOptions): Promise<NextTokenResult> {
    const remote = await this.#started();
    return remote.nextToken(prompt, opts);
  }

  async appendToken(prompt: string, id: number): Promise<string> {
    const remote = await this.#started();
    return remote.appendToken(prompt, id);
  }

  async #started(): Promise<Remote<EngineApi>> {
    await this.start();
    return this.#remote!;
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
        this.#remote.load(url, proxy((p: LoadProgress) => (this.progress = p))),
        crashed
      ]);
      this.info = info;
      this.status = 'ready';
      return info;
    } catch (e) {
      this.error = failure(e).message;
      this.status = 'error';
      throw e;
    }
  }
}

let shared: EngineClient | null = null;

// The engine every widget uses unless it is given another: created on first use, in the browser.
export function getEngine(): EngineClient {
  shared ??= new EngineClient(`${base}/models/${DEFAULT_MODEL}`);
  return shared;
}
