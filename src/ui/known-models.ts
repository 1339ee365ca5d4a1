/**
 * Public multilingual checkpoints a user would type, per supported architecture (the model panel lists
 * them; this machine cannot download them, the tests load the same architectures from a local server).
 */
export interface KnownModel {
  repo: string;
  architecture: string;
  note: string;
}

export const KNOWN_MODELS: readonly KnownModel[] = [
  { repo: 'ai-forever/mGPT', architecture: 'GPT2LMHeadModel', note: 'mGPT, 61 languages, 1.3B' },
  { repo: 'openai-community/gpt2', architecture: 'GPT2LMHeadModel', note: 'GPT-2 small (English)' },
  { repo: 'google-bert/bert-base-multilingual-cased', architecture: 'BertForMaskedLM', note: 'mBERT, 104 languages' },
  { repo: 'FacebookAI/xlm-roberta-base', architecture: 'XLMRobertaForMaskedLM', note: 'XLM-R base, 100 languages' },
  { repo: 'bigscience/bloom-560m', architecture: 'BloomForCausalLM', note: 'BLOOM 560M, 46 languages' },
  { repo: 'Qwen/Qwen2.5-0.5B', architecture: 'Qwen2ForCausalLM', note: 'Qwen2.5 0.5B' },
  { repo: 'Qwen/Qwen3-0.6B', architecture: 'Qwen3ForCausalLM', note: 'Qwen3 0.6B' },
  { repo: 'meta-llama/Llama-3.2-1B', architecture: 'LlamaForCausalLM', note: 'LLaMA 3.2 1B (gated)' },
  { repo: 'google/gemma-2-2b', architecture: 'Gemma2ForCausalLM', note: 'Gemma 2 2B (gated)' },
  { repo: 'google/gemma-3-270m', architecture: 'Gemma3ForCausalLM', note: 'Gemma 3 270M (gated)' },
];
