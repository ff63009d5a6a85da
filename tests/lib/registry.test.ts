// The embed registry's reading of a link: every edge a hostile or clumsy link can bring.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findWidget, readQuery, textLimit, toQuery, validate, wellFormed, widgets } from '../../src/lib/embed/registry';
import { parameterTables } from '../../scripts/embed-docs';

const model = { n_layer: 4, n_head: 4, n_positions: 128 };
const attention = findWidget('attention')!;
const sampling = findWidget('sampling')!;

describe('readQuery', () => {
  it('decodes + and percent escapes', () => {
    expect(readQuery('?text=a+b%20c&layer=2').get('text')).toBe('a b c');
  });
  it('malformed percent-encoding: kept as typed, never throws', () => {
    const q = readQuery('text=%E0%A4%A&x=%ZZ&y=%&z=ok%21%E0');
    expect(q.get('text')).toBe('%E0%A4%A');
    expect(q.get('x')).toBe('%ZZ');
    expect(q.get('y')).toBe('%');
    expect(q.get('z')).toBe('ok!%E0');
  });
  it('a lone surrogate encoded as UTF-8 bytes is not decoded', () => {
    expect(readQuery('text=%ED%A0%80').get('text')).toBe('%ED%A0%80');
  });
  it('a lone surrogate in the string becomes U+FFFD', () => {
    const v = readQuery('text=a\uD800b\uDC00').get('text')!;
    expect(v).toBe('a\uFFFDb\uFFFD');
    expect(v.isWellFormed()).toBe(true);
  });
  it('keeps a surrogate pair (an emoji) whole', () => {
    expect(wellFormed('😀')).toBe('😀');
    expect(readQuery(`text=${encodeURIComponent('👩‍👩‍👧')}`).get('text')).toBe('👩‍👩‍👧');
  });
  it('a key without a value is empty; the last of a repeated key wins', () => {
    const q = readQuery('a&layer=1&layer=3');
    expect(q.get('a')).toBe('');
    expect(q.get('layer')).toBe('3');
  });
});

describe('validate', () => {
  it('unknown keys are ignored without a note', () => {
    const v = validate(attention, readQuery('evil=<script>&theme=dark&layer=1'), model);
    expect(v.props).toEqual({ layer: 1 });
    expect(v.notes).toEqual([]);
  });
  it('out of range: clamped to the model, with a note', () => {
    const v = validate(attention, readQuery('layer=99&head=-1&token=500'), model);
    expect(v.props).toEqual({ layer: 3, head: 0, token: 127 });
    expect(v.notes).toHaveLength(3);
    expect(v.notes[0]).toContain('99 is out of range (0 to 3); 3 is used');
  });
  it('without the model, model ranges are left to the widget', () => {
    expect(validate(attention, readQuery('layer=99'), null).props).toEqual({ layer: 99 });
  });
  it('not a number, or not whole: dropped with a note', () => {
    for (const bad of ['abc', '1.5', '', 'Infinity', 'NaN', '0x10', '1e400']) {
      const v = validate(attention, readQuery(`layer=${encodeURIComponent(bad)}`), model);
      if (bad === '0x10') continue; // Number('0x10') is 16: a whole number, clamped to 3
      expect(v.props, bad).toEqual({});
      expect(v.notes, bad).toHaveLength(1);
    }
    expect(validate(attention, readQuery('layer=0x10'), model).props).toEqual({ layer: 3 });
  });
  it('text is cut to the cap with a note, and otherwise passed as it is (markup stays text)', () => {
    const hostile = '<img src=x onerror=alert(1)></script>javascript:alert(1)';
    expect(validate(attention, readQuery(`text=${encodeURIComponent(hostile)}`), model).props).toEqual({ prompt: hostile });
    const long = 'a'.repeat(textLimit(model) + 10);
    const v = validate(attention, readQuery(`text=${long}`), model);
    expect((v.props.prompt as string).length).toBe(textLimit(model));
    expect(v.notes[0]).toContain('are kept');
  });
  it('a choice outside its list is dropped with a note', () => {
    const v = validate(attention, readQuery('view=<b>'), model);
    expect(v.props).toEqual({});
    expect(v.notes[0]).toContain('not one of weights, scores');
  });
  it('top_k=0 turns top-k off; numbers are clamped to the slider', () => {
    expect(validate(sampling, readQuery('top_k=0&top_p=7&temperature=-1'), model).props).toEqual({ topK: null, topP: 1, temperature: 0 });
  });
  it('words: four, comma-separated', () => {
    const a = findWidget('arithmetic')!;
    expect(validate(a, readQuery('words=king,man,woman,queen'), model).props).toEqual({ words: ['king', 'man', 'woman', 'queen'] });
    expect(validate(a, readQuery('words=king,man'), model).notes).toHaveLength(1);
  });
  it("'all' is a head for the ablation figure", () => {
    expect(validate(findWidget('ablation')!, readQuery('head=all'), model).props).toEqual({ head: 'all' });
  });
});

describe('toQuery', () => {
  it('round-trips a state, leaving defaults out', () => {
    const q = toQuery(attention, { text: 'The cat sat on the mat because it was tired.', layer: 2, head: 0, token: 4, view: 'scores' });
    expect(q).toBe('layer=2&token=4&view=scores');
    expect(validate(attention, readQuery(q), model).props).toEqual({ layer: 2, token: 4, view: 'scores' });
  });
  it('encodes hostile text so it reads back the same', () => {
    const text = '&layer=3#x <script>';
    expect(validate(attention, readQuery(toQuery(attention, { text })), model).props).toEqual({ prompt: text });
  });
});

describe('the registry', () => {
  it('names are unique, and every parameter has a distinct URL name', () => {
    expect(new Set(widgets.map((w) => w.name)).size).toBe(widgets.length);
    for (const w of widgets) expect(new Set(w.params.map((p) => p.name)).size, w.name).toBe(w.params.length);
  });
  it('every figure of a chapter is registered', () => {
    for (const file of ['02-tokens', '03-embeddings', '04-attention', '05-block', '06-sampling']) {
      const md = readFileSync(`content/${file}.md`, 'utf8');
      for (const w of ['TokenizerView', 'BpeStepper', 'TokenLanguages', 'EmbeddingMap', 'VectorArithmetic', 'PositionEmbeddings', 'AttentionInspector', 'QueryKeyValue', 'CausalMask', 'HeadsGrid', 'HeadAblation', 'BlockDiagram', 'LogitLens', 'FfnNeurons', 'ParamCount', 'SamplingFigure', 'SamplingDice']) {
        if (!md.includes(`<${w}`)) continue;
        const src = readFileSync(`src/lib/widgets/${w}.svelte`, 'utf8');
        const name = src.match(/<Figure[\s\S]*?name="([^"]+)"/)![1];
        expect(findWidget(name), `${w} (${name}) in the registry`).toBeDefined();
      }
    }
  });
  it("the guess figure's default sentence is the widget's own (the first held-out sentence)", async () => {
    const { defaultGuessText: widget } = await import('../../src/lib/widgets/guess-sentences');
    expect(findWidget('guess')!.params.find((p) => p.name === 'text')!.default).toBe(widget);
  });

  it('docs/teaching.md lists the parameters as the registry has them (npm run embed-docs)', () => {
    expect(readFileSync('docs/teaching.md', 'utf8')).toContain(parameterTables());
  });
});
