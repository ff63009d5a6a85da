import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cardFacts } from '../../engine/card-facts';
import { EngineError } from '../../engine/errors';
import { loadModelDir } from '../../engine/cli/common';

const index = JSON.parse(readFileSync('static/models/index.json', 'utf8')) as { default: string };
const dir = `static/models/${index.default}`;

describe('cardFacts', () => {
  it('reads the shipped card: its parameter count is the model’s', () => {
    const f = cardFacts(readFileSync(`${dir}/MODEL_CARD.md`, 'utf8'));
    expect(f.params).toBe(loadModelDir(dir).nParams);
    expect(f.tokensSeen).toBeGreaterThan(0);
    expect(f.wallSeconds).toBeGreaterThan(0);
    expect(f.cpuSeconds).toBeGreaterThan(0);
  });

  it('durations in h, min and s', () => {
    const card = '| parameters | 10 (x) |\n| tokens seen | 1,000 (y) |\n| time | 1 h 2 min 3 s wall clock, 45 s of CPU time |\n';
    expect(cardFacts(card)).toEqual({ params: 10, tokensSeen: 1000, wallSeconds: 3723, cpuSeconds: 45 });
  });

  it('a card without the rows is an EngineError', () => {
    expect(() => cardFacts('# nothing here')).toThrow(EngineError);
  });
});
