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

  it('bad input exits 2 with one clear line', () => {
    for (const args of [['--prompt', ''], ['--prompt', 'x', '--temperature', '0'], ['--prompt', 'x', '--top-p', '2'], ['--bogus']]) {
      const r = tsx('generate', args);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^error \(\w+\): .+\n$/);
    }
  });
});
