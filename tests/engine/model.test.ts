import { describe, expect, it } from 'vitest';
import { paramShapes } from '../../engine/config';
import { forward } from '../../engine/gpt';
import { loadModel, modelFiles } from '../../engine/model';
import { parseSafetensors, serializeSafetensors, type Tensor } from '../../engine/safetensors';
import { errorCode as code, testModel } from './helpers';

const model = testModel();
const files = modelFiles(model);

function load(over: Partial<{ config: unknown; safetensors: Uint8Array; tokenizer: unknown }> = {}) {
  return loadModel({ config: files['config.json'], safetensors: files['model.safetensors'], tokenizer: files['tokenizer.json'], ...over });
}


// rewrite the model's safetensors with a change to its tensor list
function edit(f: (t: Map<string, Tensor>) => void): Uint8Array {
  const { tensors } = parseSafetensors(files['model.safetensors']);
  f(tensors);
  return serializeSafetensors(tensors);
}

describe('model files', () => {
  it('save then load gives the same parameters and the same logits', () => {
    const back = load();
    for (const [name] of paramShapes(model.config)) expect(back.params[name]).toEqual(model.params[name]);
    const ids = model.tokenizer.encode('The cat');
    expect(forward(back, ids).logits).toEqual(forward(model, ids).logits);
    expect(back.meta.explorable_random_init).toBe(true);
  });

  it('loads a Hugging Face-style file: transformer. prefix, attn.bias buffers, lm_head', () => {
    const hf = edit((t) => {
      for (const [name, v] of [...t]) {
        t.delete(name);
        t.set('transformer.' + name, v);
      }
      t.set('transformer.h.0.attn.bias', { shape: [1, 1, 4, 4], data: new Float32Array(16).fill(1) });
      t.set('lm_head.weight', t.get('transformer.wte.weight')!);
    });
    expect(load({ safetensors: hf }).params['wte.weight']).toEqual(model.params['wte.weight']);
  });

  it('rejects an untied output head (lm_head.weight unlike wte)', () => {
    const untied = edit((t) => {
      const wte = t.get('wte.weight')!;
      t.set('lm_head.weight', { shape: wte.shape, data: wte.data.map((v) => v + 1) });
    });
    expect(code(() => load({ safetensors: untied }))).toBe('bad_safetensors');
  });
  it('rejects a config whose end-of-text id is not the tokenizer\'s', () =>
    expect(code(() => load({ config: { ...JSON.parse(files['config.json']), eos_token_id: 0 } }))).toBe('bad_model'));
  it('rejects a vocabulary larger than the tokenizer (a padded vocabulary would sample ids it cannot decode)', () => {
    const c = JSON.parse(files['config.json']);
    const padded = edit((t) => {
      const wte = t.get('wte.weight')!;
      const C = wte.shape[1];
      const data = new Float32Array((wte.shape[0] + 8) * C);
      data.set(wte.data);
      t.set('wte.weight', { shape: [wte.shape[0] + 8, C], data });
    });
    expect(code(() => load({ config: { ...c, vocab_size: c.vocab_size + 8 }, safetensors: padded }))).toBe('bad_model');
  });
  it('rejects a missing tensor', () => expect(code(() => load({ safetensors: edit((t) => t.delete('h.1.ln_2.bias')) }))).toBe('bad_safetensors'));
  it('rejects a tensor of the wrong shape', () =>
    expect(code(() => load({ safetensors: edit((t) => t.set('ln_f.bias', { shape: [3], data: new Float32Array(3) })) }))).toBe('bad_safetensors'));
  it('rejects an unexpected tensor', () =>
    expect(code(() => load({ safetensors: edit((t) => t.set('h.9.extra', { shape: [1], data: new Float32Array(1) })) }))).toBe('bad_safetensors'));
  it('rejects NaN parameters', () =>
    expect(code(() => load({ safetensors: edit((t) => (t.get('ln_f.bias')!.data[0] = NaN)) }))).toBe('bad_safetensors'));
  it('rejects a truncated file', () =>
    expect(code(() => load({ safetensors: files['model.safetensors'].subarray(0, 1000) }))).toBe('bad_safetensors'));
  it('rejects a config that disagrees with the file', () =>
    expect(code(() => load({ config: { ...JSON.parse(files['config.json']), n_embd: 16, n_head: 2 } }))).toBe('bad_safetensors'));
  it('rejects a corrupt tokenizer', () => expect(code(() => load({ tokenizer: '{"type":"byte-bpe"' }))).toBe('bad_tokenizer'));
  it('rejects a tokenizer larger than the model vocabulary', () =>
    expect(code(() => load({ config: { ...JSON.parse(files['config.json']), vocab_size: 100, eos_token_id: 99 } }))).toBe('bad_model'));

  it('rejects a tensor under two names (transformer.wte.weight and wte.weight): which one would run?', () => {
    const both = edit((t) => {
      const wte = t.get('wte.weight')!;
      t.set('transformer.wte.weight', { shape: wte.shape, data: wte.data.map((v) => -v) });
    });
    expect(() => load({ safetensors: both })).toThrow(/"wte\.weight" appears twice/);
    expect(code(() => load({ safetensors: both }))).toBe('bad_safetensors');
  });

  // Real checkpoints ship F16 and BF16; their NaN and Infinity patterns must be caught as the F32
  // ones are, after decoding. Each file is the model with ln_f.bias rewritten in that dtype.
  describe('rejects NaN and Infinity stored as F16 or BF16', () => {
    const patterns = { F16: { NaN: 0x7e00, Infinity: 0x7c00, '-Infinity': 0xfc00 }, BF16: { NaN: 0x7fc0, Infinity: 0x7f80, '-Infinity': 0xff80 } };
    function withHalf(dtype: 'F16' | 'BF16', bad: number): Uint8Array {
      const { tensors } = parseSafetensors(files['model.safetensors']);
      const header: Record<string, unknown> = {};
      const parts: Uint8Array[] = [];
      let offset = 0;
      for (const [name, t] of tensors) {
        let bytes: Uint8Array;
        if (name === 'ln_f.bias') {
          const half = new Uint16Array(t.data.length); // zeros are 0x0000 in both formats
          half[3] = bad;
          bytes = new Uint8Array(half.buffer);
          header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
        } else {
          bytes = new Uint8Array(Float32Array.from(t.data).buffer);
          header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes.length] };
        }
        parts.push(bytes);
        offset += bytes.length;
      }
      const head = new TextEncoder().encode(JSON.stringify(header));
      const out = new Uint8Array(8 + head.length + offset);
      new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
      out.set(head, 8);
      let p = 8 + head.length;
      for (const b of parts) {
        out.set(b, p);
        p += b.length;
      }
      return out;
    }
    for (const dtype of ['F16', 'BF16'] as const) {
      for (const [what, bits] of Object.entries(patterns[dtype])) {
        it(`${what} in ${dtype}`, () => {
          const file = withHalf(dtype, bits);
          // the pattern decodes to what it claims, so the refusal below is about that value
          expect(String(parseSafetensors(file).tensors.get('ln_f.bias')!.data[3])).toBe(what);
          expect(() => load({ safetensors: file })).toThrow(/"ln_f\.bias" holds a NaN or infinite value/);
          expect(code(() => load({ safetensors: file }))).toBe('bad_safetensors');
        });
      }
      it(`the same ${dtype} file with a finite value (1.0) loads`, () => expect(load({ safetensors: withHalf(dtype, dtype === 'F16' ? 0x3c00 : 0x3f80) }).params['ln_f.bias'][3]).toBe(1));
    }
  });
});
