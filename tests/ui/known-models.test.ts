import { describe, expect, it } from 'vitest';
import { supportedArchitectures } from '../../src/engine/families/registry';
import { parseModelArg } from '../../src/engine/source/source';
import { KNOWN_MODELS } from '../../src/ui/known-models';

describe('the models the panel offers', () => {
  it('are valid hub repo ids of architectures the engine supports, and cover every family', () => {
    const archs = supportedArchitectures();
    for (const m of KNOWN_MODELS) {
      expect(archs).toContain(m.architecture);
      expect(parseModelArg(`hf:${m.repo}`)).toMatchObject({ type: 'hub', repo: m.repo });
    }
    for (const a of [
      'GPT2LMHeadModel',
      'BertForMaskedLM',
      'XLMRobertaForMaskedLM',
      'BloomForCausalLM',
      'Qwen2ForCausalLM',
      'Qwen3ForCausalLM',
      'LlamaForCausalLM',
      'Gemma2ForCausalLM',
      'Gemma3ForCausalLM',
    ]) {
      expect(KNOWN_MODELS.some((m) => m.architecture === a)).toBe(true);
    }
  });
});
