import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { DEFAULT_MODEL } from '../../src/lib/model';

it('the site loads the same default model as the command-line tools', () => {
  const index = JSON.parse(readFileSync('static/models/index.json', 'utf8')) as { default: string };
  expect(DEFAULT_MODEL, 'src/lib/model.ts and static/models/index.json name different models').toBe(index.default);
});
