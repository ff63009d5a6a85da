// One generation run as a figure drives it: a session in the engine worker, the steps shown so
// far, how many the reader has asked for, and whether it is playing. Written as a small state
// machine so a widget only says what the reader did (start, step, play, pick) and draws the result.
//
//   start(prompt, settings) ──▶ a session ──▶ step()/play() raise `wanted` ──▶ #drive() asks the
//   engine for one step at a time until steps.length reaches `wanted` (or the run stops).
//
// Every start bumps `#run`; an answer that comes back for an older run is dropped, so a reader who
// changes a setting mid-step never sees a step of the old settings.
import { failure, type EngineClient } from '$lib/engine/client.svelte';
import type { GenerationSettings, GenerationStart, GenerationStep } from '$lib/engine/api';
import { settingOfError, type SettingName } from '$lib/engine/sampling-controls';

export interface RunProblem {
  message: string;
  setting: SettingName | null; // the control the message is about, marked invalid
}

export class GenerationRun {
  session = $state.raw<GenerationStart | null>(null);
  ranWith = $state.raw<{ prompt: string; settings: GenerationSettings } | null>(null); // what the session runs
  steps = $state.raw<GenerationStep[]>([]);
  playing = $state(false);
  problem = $state.raw<RunProblem | null>(null);
  picked = $state<number | null>(null); // the step shown in detail; null follows the newest
  #wanted = $state(0); // how many steps the reader has asked for
  #driving = $state(false);
  #run = 0;
  #epoch = -1; // the engine's backendEpoch the session was made on
  #engine: EngineClient;
  #delay: number; // ms between steps while playing

  constructor(engine: EngineClient, delay = 350) {
    this.#engine = engine;
    this.#delay = delay;
  }

  get last(): GenerationStep | undefined {
    return this.steps.at(-1);
  }
  get stopped(): boolean {
    return !!this.last?.stop;
  }
  get busy(): boolean {
    return this.#driving && this.steps.length < this.#wanted;
  }
  get canStep(): boolean {
    return !!this.session && !this.stopped;
  }
  get shownIndex(): number {
    return this.picked ?? this.steps.length - 1;
  }
  get shown(): GenerationStep | undefined {
    return this.steps[this.shownIndex];
  }
  // the session was made on another runner than the engine's now (its KV cache is gone)
  get outdated(): boolean {
    return !!this.session && this.#engine.backendEpoch !== this.#epoch;
  }

  // A new session for this prompt and settings. `keep` replays the steps already shown (after a
  // backend switch: same seed and settings, the new runner's numbers).
  // `upTo` asks for that many steps at once (a figure opened at a given step).
  async start(prompt: string, settings: GenerationSettings, keep = false, upTo = 0): Promise<void> {
    const mine = ++this.#run;
    this.#end();
    if (keep) this.#wanted = Math.max(this.#wanted, this.steps.length);
    else this.#clear();
    this.#wanted = Math.max(this.#wanted, upTo);
    this.steps = [];
    try {
      const s = await this.#engine.startGeneration(prompt, settings);
      if (mine !== this.#run) {
        this.#engine.endGeneration(s.session).catch(() => {});
        return;
      }
      this.session = s;
      this.ranWith = { prompt, settings };
      this.#epoch = this.#engine.backendEpoch;
      this.problem = null;
      this.#drive();
    } catch (e) {
      if (mine !== this.#run) return;
      const f = failure(e);
      this.fail({ message: f.message, setting: settingOfError(f.code) });
    }
  }

  // The controls cannot be sent as they are (a box the browser cannot read): no session.
  fail(problem: RunProblem): void {
    this.#run++;
    this.#end();
    this.steps = [];
    this.playing = false;
    this.problem = problem;
  }

  // One more step, even while the one before is still running.
  step(): void {
    if (!this.canStep || this.playing) return;
    this.#wanted = Math.max(this.#wanted, this.steps.length) + 1;
    this.picked = null;
    this.#drive();
  }

  togglePlay(): void {
    if (!this.canStep) return;
    this.playing = !this.playing;
    if (!this.playing) return;
    this.picked = null;
    this.#wanted = Math.max(this.#wanted, this.steps.length + 1);
    this.#drive();
  }

  // Show step i in detail (0-based); the newest one means "follow the newest".
  pick(i: number): void {
    this.picked = i === this.steps.length - 1 ? null : i;
  }

  // The figure goes away: the worker forgets the session and its KV cache.
  dispose(): void {
    this.#run++;
    this.#end();
    this.playing = false;
  }

  #clear() {
    this.#wanted = 0;
    this.playing = false;
    this.picked = null;
  }

  #end() {
    const old = this.session;
    if (old) this.#engine.endGeneration(old.session).catch(() => {});
    this.session = null;
  }

  // Brings the steps on screen up to `wanted`, one engine call at a time, raising `wanted` while
  // playing. Never more than one loop runs; a restart makes the running one find a new session.
  async #drive(): Promise<void> {
    if (this.#driving) return;
    this.#driving = true;
    try {
      for (;;) {
        const mine = this.#run;
        const s = this.session;
        if (!s || this.stopped) break;
        if (this.steps.length >= this.#wanted) {
          if (!this.playing) break;
          await new Promise((r) => setTimeout(r, this.#delay));
          if (mine === this.#run && this.playing) this.#wanted = this.steps.length + 1;
          continue;
        }
        try {
          const step = await this.#engine.step(s.session);
          if (mine !== this.#run) continue;
          this.steps = [...this.steps, step];
          if (step.stop) this.playing = false;
        } catch (e) {
          if (mine !== this.#run) continue;
          const f = failure(e);
          if (f.code === 'no_session' && this.ranWith) {
            // the backend changed under this session: make a new one and replay
            this.start(this.ranWith.prompt, this.ranWith.settings, true);
            break;
          }
          this.problem = { message: f.message, setting: null };
          this.playing = false;
          break;
        }
      }
    } finally {
      this.#driving = false;
    }
  }
}
