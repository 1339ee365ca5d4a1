/** Licences and citations of every source of RML-LAMA (our rebuild); copied into manifest.json. */
import type { SourceInfo } from './types';

export const DATA_LICENSE = 'CC BY-NC 4.0 (inherited from LAMA/mLAMA T-REx); non-commercial research use only; cite the sources below.';

export const SOURCES: SourceInfo[] = [
  {
    name: 'mParaRel',
    repo: 'https://github.com/coastalcph/mpararel',
    commit: '7153b7bdc86901fbe23d0c2909a4f2d4609b09d9',
    license: 'No licence file; derived from LAMA/mLAMA T-REx (CC BY-NC 4.0), ParaRel (MIT) and Wikidata labels (CC0): treated as CC BY-NC 4.0.',
    citation: 'Constanza Fierro and Anders Søgaard. 2022. Factual Consistency of Multilingual Pretrained Language Models. Findings of ACL 2022.',
    used: 'facts and labels for en, fr, fi, hu, ja, ko, zh-hans (tuples); zh labels (t_rex_translation/zh, converted to Simplified Chinese with opencc-js); paraphrase patterns',
  },
  {
    name: 'mLAMA (templates, via heng840/Dataset)',
    repo: 'https://github.com/heng840/Dataset',
    commit: 'b998783e9e55f8b9d68f6c7f3d925a478789a1f0',
    license: 'CC BY-NC 4.0 (mLAMA).',
    citation:
      'Nora Kassner, Philipp Dufter and Hinrich Schütze. 2021. Multilingual LAMA: Investigating Knowledge in Multilingual Pretrained Language Models. EACL 2021.',
    used: 'the mLAMA template per relation and language (my_mlama/*/templates.jsonl)',
  },
  {
    name: 'Multilingual Paraphrased Query Dataset (Chen et al., aligned paraphrases)',
    repo: 'https://github.com/heng840/Dataset',
    commit: 'b998783e9e55f8b9d68f6c7f3d925a478789a1f0',
    license: 'README says CC BY 4.0, but the data is built on mLAMA (CC BY-NC 4.0): treated as CC BY-NC 4.0.',
    citation:
      'Yuheng Chen, Pengfei Cao, Yubo Chen, Kang Liu and Jun Zhao. 2024. Journey to the Center of the Knowledge Neurons: Discoveries of Language-Independent Knowledge Neurons and Degenerate Knowledge Neurons. AAAI 2024.',
    used: 'paraphrase patterns (my_mlama/*/final_template_aligned.jsonl; en, fr, fi, hu, ja, ko)',
  },
  {
    name: 'ParaRel',
    repo: 'https://github.com/yanaiela/pararel',
    commit: 'cb5554678457beb5ac163d888f1ce8cf174b3f0b',
    license: 'MIT',
    citation:
      'Yanai Elazar, Nora Kassner, Shauli Ravfogel, Abhilasha Ravichander, Eduard Hovy, Hinrich Schütze and Yoav Goldberg. 2021. Measuring and Improving Consistency in Pretrained Language Models. TACL 9.',
    used: 'English paraphrase patterns (data/pattern_data/graphs_json)',
  },
  {
    name: 'X-FACTR',
    repo: 'https://github.com/jzbjyb/X-FACTR',
    commit: 'c1938ec7262ebc34ac0b39daff3f446e103e8a87',
    license: 'No licence file; research use, cite the paper.',
    citation:
      'Zhengbao Jiang, Antonios Anastasopoulos, Jun Araki, Haibo Ding and Graham Neubig. 2020. X-FACTR: Multilingual Factual Knowledge Retrieval from Pretrained Language Models. EMNLP 2020.',
    used: 'one human-written prompt per relation for zh, en, ja, ko, hu (prompts with inflection markup are skipped)',
  },
  {
    name: 'LAMA (T-REx)',
    repo: 'https://github.com/facebookresearch/LAMA',
    commit: 'n/a (reached through mParaRel and mLAMA; fact ids are LAMA TREx line ids)',
    license: 'CC BY-NC 4.0',
    citation:
      'Fabio Petroni, Tim Rocktäschel, Patrick Lewis, Anton Bakhtin, Yuxiang Wu, Alexander H. Miller and Sebastian Riedel. 2019. Language Models as Knowledge Bases? EMNLP 2019. T-REx: Hady Elsahar et al. 2018. T-REx: A Large Scale Alignment of Natural Language with Knowledge Base Triples. LREC 2018.',
    used: 'the facts (subject, relation, object) and their line ids',
  },
  {
    name: 'Wikidata labels',
    repo: 'https://www.wikidata.org',
    commit: 'n/a (labels as shipped in mParaRel)',
    license: 'CC0 1.0',
    citation: 'Denny Vrandečić and Markus Krötzsch. 2014. Wikidata: A Free Collaborative Knowledgebase. CACM 57(10).',
    used: 'entity labels in the 7 languages',
  },
];

export const MANIFEST_NOTES: string[] = [
  'Rebuild of RML-LAMA (Cao et al., "One Mind, Many Tongues"); the paper\'s own data is not public.',
  'A fact is included only when it has subject and object labels in all 7 languages; fact id = <relation>:<LAMA TREx line id>.',
  'zh labels: mParaRel zh-hans when present (stray Traditional characters converted t -> cn), else the Wikidata "zh" label converted to Simplified Chinese with opencc-js 1.4.2 (twp -> cn).',
  'Templates with origin.source = "written" were written or rewritten by us (see docs/DATA.md); causal forms end with [Y] and the query is the text before it.',
];
