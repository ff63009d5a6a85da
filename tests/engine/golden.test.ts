// The golden test (llama2.c keeps its expected stdout in a test the same way): the shipped model's
// greedy continuation of a fixed prompt, token for token. Any change in the numerics of the
// forward pass, the sampler or the tokenizer that alters what the site shows breaks it.
//
// The expected ids were produced once by running this engine (generate() on the CPU backend,
// greedy) on static/models/brown-tiny as committed, and pasted here. If the model is retrained on
// purpose, regenerate them the same way and update the model card's samples with it.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRunner } from '../../engine/backend';
import { loadModelDir, modelsDir } from '../../engine/cli/common';
import { generate } from '../../engine/generate';

const model = loadModelDir(join(modelsDir, 'brown-tiny'));
const prompt = 'The jury said';
const expectedIds: number[] = EXPECTED_IDS;
const expectedText = EXPECTED_TEXT;

describe('golden: brown-tiny greedy continuation', () => {
  it(`"${prompt}" continues with the same ${expectedIds.length} tokens`, async () => {
    const ids = model.tokenizer.encode(prompt);
    const runner = await createRunner(model, { backend: 'cpu' });
    const out: number[] = [];
    for await (const step of generate(runner, model.config, ids, { maxTokens: expectedIds.length, temperature: 1e-4 })) out.push(step.chosen);
    expect(out).toEqual(expectedIds);
    expect(model.tokenizer.decode(out)).toBe(expectedText);
  });
});
