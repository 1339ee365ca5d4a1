import { writeTinyCheckpoint } from '../../tests/helpers/tiny-checkpoints';
for (const a of ['gpt2','llama','qwen2','bert'] as const) await writeTinyCheckpoint('/tmp/ck/'+a, a, {seed: 1});
