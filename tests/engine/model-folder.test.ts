import { describe, expect, it } from 'vitest';
import { countParams } from '../../engine/config';
import { loadModel, loadModelStepwise, modelFiles } from '../../engine/model';
import { checkFolderHead, estimateMemory, loadFolder, pickFolderFiles } from '../../engine/model-folder';
import { errorCode as code, testModel } from './helpers';

const model = testModel();
const files = modelFiles(model);
const enc = (s: string) => new TextEncoder().encode(s);
const folder = (over: Record<string, Uint8Array | null> = {}) => {
  const out: Record<string, Uint8Array> = { 'm/config.json': enc(files['config.json']), 'm/model.safetensors': files['model.safetensors'], 'm/tokenizer.json': enc(files['tokenizer.json']) };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
};

describe('pickFolderFiles', () => {
  it('takes the three files from a folder and leaves the rest', () => {
    expect(pickFolderFiles(['gpt2/config.json', 'gpt2/README.md', 'gpt2/model.safetensors', 'gpt2/tokenizer.json', 'gpt2/pytorch_model.bin'])).toEqual({
      config: 'gpt2/config.json',
      safetensors: 'gpt2/model.safetensors',
      tokenizer: ['gpt2/tokenizer.json']
    });
  });
  it('takes vocab.json + merges.txt when there is no tokenizer.json', () => {
    expect(pickFolderFiles(['config.json', 'model.safetensors', 'vocab.json', 'merges.txt']).tokenizer).toEqual(['vocab.json', 'merges.txt']);
  });
  it('names what is missing: merges.txt beside a lone vocab.json', () => {
    expect(() => pickFolderFiles(['config.json', 'model.safetensors', 'vocab.json'])).toThrow(/missing: merges\.txt/);
  });
  it('a folder with only pytorch_model.bin says that safetensors is needed', () => {
    expect(() => pickFolderFiles(['config.json', 'pytorch_model.bin', 'tokenizer.json'])).toThrow(/no model\.safetensors/);
  });
  it('two folders at once are refused', () => {
    expect(code(() => pickFolderFiles(['a/config.json', 'b/config.json', 'a/model.safetensors', 'a/tokenizer.json']))).toBe('bad_folder');
  });
  it('no files at all', () => {
    expect(() => pickFolderFiles([])).toThrow(/found no files/);
  });
});

describe('loadFolder and loadModelStepwise', () => {
  it('gives the same model as loadModel, reporting every tensor up to the last', async () => {
    const seen: number[] = [];
    const m = await loadFolder(folder(), { onProgress: (p) => seen.push(p.tensors) });
    const want = loadModel({ config: files['config.json'], safetensors: files['model.safetensors'], tokenizer: files['tokenizer.json'] });
    for (const k of Object.keys(want.params)) expect(m.params[k]).toEqual(want.params[k]);
    expect(seen.at(-1)).toBe(Object.keys(want.params).length);
  });
  it('a cancel between two tensors stops it with the code cancelled', async () => {
    const signal = { aborted: true };
    await expect(loadModelStepwise({ config: files['config.json'], safetensors: files['model.safetensors'], tokenizer: files['tokenizer.json'] }, { signal })).rejects.toMatchObject({ code: 'cancelled' });
  });
  it('a vocabulary that does not match the tokenizer is refused', async () => {
    const config = JSON.parse(files['config.json']);
    await expect(loadFolder(folder({ 'm/config.json': enc(JSON.stringify({ ...config, vocab_size: config.vocab_size + 1 })) }))).rejects.toMatchObject({ code: 'bad_model' });
  });
});

describe('checkFolderHead', () => {
  const st = files['model.safetensors'];
  const headerLen = Number(new DataView(st.buffer, st.byteOffset, 8).getBigUint64(0, true));
  it('reads the shape and memory from config.json and the header alone', () => {
    const r = checkFolderHead(files['config.json'], st.subarray(0, 8 + headerLen), st.length);
    expect(r.config).toEqual(model.config);
    expect(r.dtypes).toEqual(['F32']);
    expect(r.memory).toEqual(estimateMemory(model.config, st.length));
    expect(r.memory.params).toBe(4 * countParams(model.config));
  });
  it('a file cut short is seen from its header, before it is read', () => {
    expect(() => checkFolderHead(files['config.json'], st.subarray(0, 8 + headerLen), st.length - 100)).toThrow(/cut short/);
  });
  it('another architecture is refused from config.json', () => {
    const config = JSON.stringify({ ...JSON.parse(files['config.json']), activation_function: 'relu' });
    expect(code(() => checkFolderHead(config, st.subarray(0, 8 + headerLen), st.length))).toBe('bad_config');
  });
});
