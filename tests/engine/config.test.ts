import { describe, expect, it } from 'vitest';
import { countParams, makeConfig, paramShapes, parseConfig } from '../../engine/config';
import { errorCode as code } from './helpers';

// Hugging Face's config.json for GPT-2 small, as published with the checkpoint
const gpt2Config = {
  activation_function: 'gelu_new', architectures: ['GPT2LMHeadModel'], attn_pdrop: 0.1, bos_token_id: 50256,
  embd_pdrop: 0.1, eos_token_id: 50256, initializer_range: 0.02, layer_norm_epsilon: 1e-5, model_type: 'gpt2',
  n_ctx: 1024, n_embd: 768, n_head: 12, n_layer: 12, n_positions: 1024, resid_pdrop: 0.1,
  summary_activation: null, summary_first_dropout: 0.1, summary_proj_to_labels: true, summary_type: 'cls_index',
  summary_use_proj: true, task_specific_params: { 'text-generation': { do_sample: true, max_length: 50 } },
  vocab_size: 50257
};


describe('config', () => {
  it("loads GPT-2's own config.json unchanged", () => {
    const c = parseConfig(gpt2Config);
    expect(c).toMatchObject({ vocab_size: 50257, n_positions: 1024, n_embd: 768, n_layer: 12, n_head: 12, eos_token_id: 50256 });
  });

  it('GPT-2 small has 124,439,808 parameters (the published count, tied head)', () => {
    expect(countParams(parseConfig(gpt2Config))).toBe(124_439_808);
  });

  it('parses JSON text as well as objects', () => {
    expect(parseConfig(JSON.stringify(gpt2Config)).n_embd).toBe(768);
  });

  it('presets are valid configs', () => {
    for (const p of ['micro', 'tiny', 'gpt2'] as const) expect(makeConfig(p).n_layer).toBeGreaterThan(0);
  });

  it('param shapes use GPT-2 names and Conv1D layout', () => {
    const shapes = Object.fromEntries(paramShapes(makeConfig('tiny')));
    expect(shapes['h.0.attn.c_attn.weight']).toEqual([128, 384]);
    expect(shapes['h.3.mlp.c_proj.weight']).toEqual([512, 128]);
    expect(shapes['wte.weight']).toEqual([1024, 128]);
    expect(shapes['ln_f.bias']).toEqual([128]);
  });

  describe('rejects', () => {
    it('unknown keys, naming them', () => {
      expect(code(() => parseConfig({ ...gpt2Config, n_embed: 768 }))).toBe('bad_config');
      expect(() => parseConfig({ ...gpt2Config, n_embed: 768 })).toThrow(/n_embed/);
    });
    it('missing or non-integer sizes', () => {
      expect(code(() => parseConfig({ ...gpt2Config, n_layer: undefined }))).toBe('bad_config');
      expect(code(() => parseConfig({ ...gpt2Config, n_head: 1.5 }))).toBe('bad_config');
      expect(code(() => parseConfig({ ...gpt2Config, vocab_size: 0 }))).toBe('bad_config');
      expect(code(() => parseConfig({ ...gpt2Config, n_embd: '768' }))).toBe('bad_config');
    });
    it('keys that would change the forward pass, at values other than GPT-2\'s', () => {
      for (const [k, v] of [['activation_function', 'relu'], ['tie_word_embeddings', false], ['scale_attn_weights', false],
        ['scale_attn_by_inverse_layer_idx', true], ['n_ctx', 512], ['n_inner', 1000]] as const) {
        expect(code(() => parseConfig({ ...gpt2Config, [k]: v })), k).toBe('bad_config');
      }
      expect(parseConfig({ ...gpt2Config, n_inner: null, activation_function: 'gelu_pytorch_tanh', tie_word_embeddings: true }).n_layer).toBe(12);
    });
    it('n_embd not divisible by n_head', () => expect(code(() => parseConfig({ ...gpt2Config, n_head: 7 }))).toBe('bad_config'));
    it('eos outside the vocabulary', () => expect(code(() => parseConfig({ ...gpt2Config, eos_token_id: 50257 }))).toBe('bad_config'));
    it('bad epsilon', () => expect(code(() => parseConfig({ ...gpt2Config, layer_norm_epsilon: -1 }))).toBe('bad_config'));
    it('not JSON / not an object', () => {
      expect(code(() => parseConfig('{oops'))).toBe('bad_config');
      expect(code(() => parseConfig('[1,2]'))).toBe('bad_config');
      expect(code(() => parseConfig(null))).toBe('bad_config');
    });
  });
});
