// The CLIs are a contract others read: check their JSON shapes and that they agree with the engine.
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it, vi } from 'vitest';

// each case starts Node processes; the machine may be busy
vi.setConfig({ testTimeout: 60_000 });
import { loadModelDir } from '../../engine/cli/common';
import { createRunner } from '../../engine/backend';
import { forward } from '../../engine/gpt';
import { distribution } from '../../engine/sampling';

const tsx = (script: string, args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', `engine/cli/${script}.ts`, ...args], { encoding: 'utf8' });
const json = (script: string, args: string[]) => JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', `engine/cli/${script}.ts`, ...args, '--json'], { encoding: 'utf8' }));

const model = loadModelDir();
const prompt = 'The jury said that';

describe('npm run trace', () => {
  it('prints ids, pieces, every head of every layer, and the top-10 next tokens of the engine', async () => {
    const out = json('trace', ['--prompt', prompt]);
    const ids = model.tokenizer.encode(prompt);
    expect(out.ids).toEqual(ids);
    expect(out.pieces.join('')).toBe(prompt);
    expect(out.layers.length).toBe(model.config.n_layer);
    for (const layer of out.layers) {
      expect(layer.heads.length).toBe(model.config.n_head);
      for (const head of layer.heads) {
        expect(head.weights.length).toBe(ids.length);
        head.weights.forEach((row: number[], i: number) => {
          expect(row.length).toBe(ids.length);
          expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
          expect(row.slice(i + 1).every((w) => w === 0)).toBe(true);
        });
      }
    }
    // the CLI runs the CPU backend, as the site does: the same numbers exactly
    const runner = await createRunner(model, { backend: 'cpu' });
    const { logits } = await runner.forward(ids, { lastOnly: true });
    const d = distribution(logits, { temperature: 1 });
    expect(out.top.length).toBe(10);
    expect(out.top[0]).toEqual({ id: d.kept[0], text: model.tokenizer.tokenText(d.kept[0]), p: d.probs[d.kept[0]] });
    // and the reference kernels agree
    const ref = distribution(forward(model, ids, { lastOnly: true }).logits, { temperature: 1 });
    expect(ref.kept[0]).toBe(d.kept[0]);
    expect(Math.abs(ref.probs[d.kept[0]] - out.top[0].p)).toBeLessThan(1e-6);
  });
});

describe('npm run trace with sampling settings', () => {
  it('--temperature, --top-k, --top-p give the engine’s distribution and kept set', async () => {
    const ids = model.tokenizer.encode(prompt);
    const runner = await createRunner(model, { backend: 'cpu' });
    const { logits } = await runner.forward(ids, { lastOnly: true });
    for (const [args, opts] of [
      [['--temperature', '0.5', '--top-k', '7'], { temperature: 0.5, topK: 7 }],
      [['--temperature', '1.7', '--top-p', '0.6'], { temperature: 1.7, topP: 0.6 }],
      [['--temperature', '0'], { temperature: 0 }]
    ] as const) {
      const out = json('trace', ['--prompt', prompt, '--top', '20', ...args]);
      const d = distribution(logits, opts);
      expect(out.kept_count, args.join(' ')).toBe(d.kept.length);
      expect(out.kept_mass).toBe(d.keptMass);
      expect(out.top.map((t: { id: number }) => t.id)).toEqual([...d.kept.subarray(0, 20)]);
      expect(out.top.map((t: { p: number }) => t.p)).toEqual([...d.kept.subarray(0, 20)].map((id) => d.probs[id]));
    }
    expect(tsx('trace', ['--prompt', prompt, '--temperature', '-1']).stderr).toMatch(/^error \(bad_temperature\)/);
  });
});

describe('npm run trace --ablate', () => {
  it('switches the named heads off: its top tokens are the engine ablated the same way', async () => {
    const out = json('trace', ['--prompt', prompt, '--ablate', '1.0,2.all']);
    const ablate = [{ layer: 1, head: 0 }, { layer: 2, head: 'all' as const }];
    expect(out.ablate).toEqual(ablate);
    const runner = await createRunner(model, { backend: 'cpu' });
    const ids = model.tokenizer.encode(prompt);
    const d = distribution((await runner.forward(ids, { lastOnly: true, ablate })).logits, { temperature: 1 });
    expect(out.top.map((t: { id: number }) => t.id)).toEqual(Array.from(d.kept.subarray(0, 10)));
    expect(out.top.map((t: { p: number }) => t.p)).toEqual(Array.from(d.kept.subarray(0, 10), (id) => d.probs[id]));
    const full = distribution((await runner.forward(ids, { lastOnly: true })).logits, { temperature: 1 });
    expect(out.top[0].p).not.toBe(full.probs[full.kept[0]]);
  });

  it('a head that does not exist is one clear line', () => {
    const r = tsx('trace', ['--prompt', prompt, '--ablate', `${model.config.n_layer}.0`]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^error \(bad_ablation\): Layer \d+ does not exist/);
  });
});

describe('npm run generate', () => {
  it('--json follows the contract and is reproducible from the seed', () => {
    const args = ['--prompt', prompt, '--tokens', '6', '--temperature', '0.9', '--top-k', '40', '--top-p', '0.95', '--seed', '11'];
    const a = json('generate', args);
    expect(json('generate', args)).toEqual(a);
    const promptIds = model.tokenizer.encode(prompt);
    expect(a.ids.slice(0, promptIds.length)).toEqual(promptIds);
    expect(a.steps.length).toBe(6);
    expect(a.ids.slice(promptIds.length)).toEqual(a.steps.map((s: { chosen: number }) => s.chosen));
    expect(a.text).toBe(model.tokenizer.decode(a.ids));
    for (const s of a.steps) {
      expect(s.top.length).toBeLessThanOrEqual(10);
      for (let i = 1; i < s.top.length; i++) expect(s.top[i].p).toBeLessThanOrEqual(s.top[i - 1].p);
      for (const t of s.top) expect(Object.keys(t).sort()).toEqual(['id', 'p', 'text']);
    }
  });

  it('plain output is the prompt and its continuation', () => {
    const r = tsx('generate', ['--prompt', prompt, '--tokens', '5', '--seed', '2']);
    expect(r.status).toBe(0);
    const j = json('generate', ['--prompt', prompt, '--tokens', '5', '--seed', '2']);
    expect(r.stdout).toBe(j.text + '\n');
  });

  it('--temperature 0 is greedy: the argmax of the engine at every step, whatever the seed', async () => {
    const args = ['--prompt', prompt, '--tokens', '5', '--temperature', '0'];
    const a = json('generate', [...args, '--seed', '1']);
    expect(json('generate', [...args, '--seed', '77']).ids).toEqual(a.ids);
    const runner = await createRunner(model, { backend: 'cpu' });
    const ids = model.tokenizer.encode(prompt);
    for (const s of a.steps) {
      const { logits } = await runner.forward(ids, { lastOnly: true });
      let arg = 0;
      for (let i = 1; i < logits.length; i++) if (logits[i] > logits[arg]) arg = i;
      expect(s.chosen).toBe(arg);
      expect(s.top).toEqual([{ id: arg, text: model.tokenizer.tokenText(arg), p: 1 }]);
      ids.push(arg);
    }
  });

  it('bad input exits 2 with one clear line', () => {
    for (const args of [['--prompt', ''], ['--prompt', 'x', '--top-p', '2'], ['--bogus']]) {
      const r = tsx('generate', args);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^error \(\w+\): .+\n$/);
    }
  });

  it('a negative or unreadable temperature is refused with its code', () => {
    const negative = tsx('generate', ['--prompt', 'x', '--temperature', '-0.5']);
    expect(negative.status).toBe(2);
    expect(negative.stderr).toBe('error (bad_temperature): Temperature must be a finite number of at least 0 (0 is greedy), got -0.5.\n');
    const nan = tsx('generate', ['--prompt', 'x', '--temperature', 'NaN']);
    expect(nan.status).toBe(2);
    expect(nan.stderr).toBe('error (bad_argument): --temperature must be a number, got "NaN".\n');
  });
});
