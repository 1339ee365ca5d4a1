/**
 * Hand-curated template decisions for RML-LAMA (our rebuild).
 *
 * - DENY: source patterns dropped entirely (machine-translation errors such as "capital" rendered as
 *   "capital letter" or "money", reversed relations, calques, broken grammar).
 * - CAUSAL_POLICY: 'auto' = every remaining source pattern whose object slot is last becomes a causal
 *   template (en, fr); 'allow' = only the source patterns listed in ALLOW_CAUSAL do (zh, fi, hu, ja, ko,
 *   where most object-last source patterns are ungrammatical once the object is put in its nominative
 *   label form). Every other source pattern is kept as a masked-only template.
 * - WRITTEN: object-last templates we wrote (origin 'written'); `basedOn` names the source pattern a
 *   rewrite starts from. `masked` is the full sentence for masked models.
 *
 * Patterns are matched in their cleaned form (see patterns.ts: whitespace normalised, CJK spaces
 * removed, stray brackets repaired, first letter capitalised), without the final period.
 */
import type { Lang, Relation } from '../../src/data/types';

export const CAUSAL_POLICY: Record<Lang, 'auto' | 'allow'> = {
  en: 'auto',
  fr: 'auto',
  zh: 'allow',
  fi: 'allow',
  hu: 'allow',
  ja: 'allow',
  ko: 'allow',
};

/** [regex, reason]; matched against the cleaned pattern. */
export const DENY: Record<Lang, [RegExp, string][]> = {
  en: [],
  fr: [
    [/majuscule/, '"capital" mistranslated as capital letter'],
    [/[Ll]e capital|qui a le capital/, '"capital" mistranslated as money (le capital)'],
    [/appelé après|nommé pour|nommé après/, 'calque of English "called/named after/for"'],
    [/fonctionne dans|zone de travail/, 'calque ("functions in", "zone of work")'],
    [/domaine (des|du|de la) \[Y\]/, 'article fixed before the object: wrong for most objects'],
    [/ en \[Y\]/, '"en" before a city is wrong ("à" is needed)'],
    [/a pris le travail/, 'calque of "took up work"'],
  ],
  zh: [
    [/资本/, '"capital" mistranslated as money'],
    [/它有首都/, 'ungrammatical ("it has capital")'],
    [/调用|被叫到/, '"called after" mistranslated as "invoke"'],
    [/原产于/, '"native to" mistranslated as product origin'],
  ],
  ja: [
    [/大文字/, '"capital" mistranslated as capital letter'],
    [/首都\[X\]|首都を持つ|首都「/, 'broken capital pattern'],
    [/呼び出/, '"called after" mistranslated as "invoke"'],
    [/発生|ネイティブ|原産|発祥/, "wrong word for a person's birthplace"],
    [/名前は\[Y\]|\[Y\]の名前|名誉で/, 'wrong meaning or calque for "named after"'],
    [/法則/, '"law" mistranslated as law of nature'],
    [/動作|機能します|専門化/, 'calque ("operates in", "specialization")'],
    [/使用されていました|取り上げ|\[X\]\[Y\]/, 'wrong meaning or no particle after the subject'],
    [/その作者|プロデュース|開発\[Y\]|で作成します|「\[Y\]」/, 'broken manufacturer pattern'],
  ],
  ko: [
    [/자본/, '"capital" mistranslated as money'],
    [/호출|명예에/, 'calque of "called after" / "named in honour of"'],
    [/원래 \[Y\]로부터|원래 \[Y\]입니다|원산/, 'broken or wrong birthplace pattern'],
    [/법칙/, '"law" mistranslated as law of nature'],
    [/작동합니다|전문화/, 'calque ("operates in", "specialization")'],
  ],
  fi: [
    [/pääoma/i, '"capital" mistranslated as money'],
    [/pääkaupunki \[X\]|\[X\] pääkaupunki|\[X\] n pääkaupunki/, 'missing genitive'],
    [/jälkeen|soitti/, 'calque of "called after"'],
    [/jonka nimi on \[Y\]/, 'wrong meaning ("whose name is Y")'],
    [/jäsenen \[Y\] jäsen/, 'ungrammatical'],
    [/sivustossa/, '"in Y" mistranslated as "on the website Y"'],
    [/\[X\] tuottaa \[Y\]|\[X\] on luonut \[Y\]|\[X\]:n tuottaa|tuote \[Y\]$|tuotteen \[Y\] tuote/, 'reversed or broken manufacturer pattern'],
    [/Laki \[X\] julistaa|\[X\] \[Y\] on|virallinen kieli \[X\]/, 'ungrammatical'],
  ],
  hu: [
    [/natív/, 'calque of "native"'],
    [/nevezték után|nevezik után|után hívva|\[Y\] névadója|\[X\] neve \[Y\]/, 'reversed relation or calque'],
    [/\[X\] tagja \[Y\]/, 'reversed relation ("Y is a member of X")'],
    [/a főváros \[X\]|\[X\]fővárosa|amely a főváros|fővárosi rangú/, 'broken capital pattern'],
    [/szorzata|szorszere|által kifejlesztett \[Y\]|által termelt \[Y\]|fejlesztő \[Y\]/, 'reversed or wrong manufacturer pattern'],
    [/\[X\] származik \[Y\]|\[X\] eredetileg \[Y\]$/, 'missing case suffix on the object'],
  ],
};

/** zh/fi/hu/ja/ko: the cleaned source patterns that are good causal templates (object last, natural). */
export const ALLOW_CAUSAL: Record<Relation, Partial<Record<Lang, string[]>>> = {
  P19: {
    zh: ['[X]出生于[Y]', '[X]出生在[Y]', '[X]来自[Y]', '[X]的出生地是[Y]。'],
  },
  P138: {},
  P463: {},
  P36: {
    zh: ['[X]的首都是[Y]', '[X]的行政中心是[Y]。'],
    ja: ['[X]の首都は[Y]です'],
    ko: ['[X]의 수도는 [Y]입니다.'],
    hu: ['[X] fővárosa [Y].', '[X], amelynek fővárosa [Y]'],
    fi: ['[X], jonka pääkaupunki on [Y].'],
  },
  P37: {
    zh: ['[X]的官方语言是[Y]'],
    ja: ['[X]の公用語は[Y]です。'],
    ko: ['[X]의 공식 언어는 [Y]입니다.'],
  },
  P101: {
    zh: ['[X]的活动领域是[Y]', '[X]的工作领域是[Y]', '[X]的专业知识是[Y]', '[X]专攻[Y]'],
    ja: ['[X]の活動領域は[Y]です', '[X]の専門知識は[Y]です', '[X]の仕事領域は[Y]です。'],
    ko: ['[X]의 전문 분야는 [Y]입니다.', '[X]의 활동 분야는 [Y]입니다.', '[X]의 업무 분야는 [Y]입니다.', '[X]의 활동 영역은 [Y]입니다'],
  },
  P937: {
    zh: ['[X]的工作地点是[Y]。'],
  },
  P176: {
    zh: ['[X]的生产商是[Y]。'],
    fi: ['[X], jonka on kehittänyt [Y]', '[X], jonka on luonut [Y]', '[X], jonka on tuottanut [Y].'],
  },
};

export interface WrittenTemplate {
  causal: string;
  masked: string;
  note: string;
  basedOn?: { source: 'mpararel' | 'mlama' | 'chen-aligned' | 'xfactr' | 'pararel'; pattern: string };
}

const W = (causal: string, masked: string, note: string, basedOn?: WrittenTemplate['basedOn']): WrittenTemplate =>
  basedOn ? { causal, masked, note, basedOn } : { causal, masked, note };

const ZH = 'zh: no object-last source pattern with this meaning';
const JA = 'ja (SOV): object-last with the "[X]の…は[Y]" topic construction; masked form adds です';
const KO = 'ko (SOV): object-last with the "[X]의 …은/는 [Y]" construction (의 does not depend on the subject\'s last sound); masked form adds 입니다';
const FI_REL = 'fi: relative clause keeps the subject in the nominative (no genitive suffix on an arbitrary name) and the object in the nominative';
const FI_NIM = 'fi: "nimeltä [Y]" (called Y) keeps the object in the nominative';
const HU_POSS = 'hu: possessive construction "[X] …-a/-e [Y]" keeps the subject unmarked';
const HU_COLON = 'hu: the colon avoids a definite article (a/az) before the object, whose form depends on the object';

export const WRITTEN: Record<Relation, Partial<Record<Lang, WrittenTemplate[]>>> = {
  P19: {
    ja: [
      W('[X]の出身地は[Y]', '[X]の出身地は[Y]です。', JA),
      W('[X]の出生地は[Y]', '[X]の出生地は[Y]です。', JA),
      W('[X]の生まれは[Y]', '[X]の生まれは[Y]です。', JA),
      W('[X]が生まれた場所は[Y]', '[X]が生まれた場所は[Y]です。', JA),
    ],
    ko: [
      W('[X]의 출생지는 [Y]', '[X]의 출생지는 [Y]입니다.', KO),
      W('[X]의 고향은 [Y]', '[X]의 고향은 [Y]입니다.', KO),
      W('[X]의 출신지는 [Y]', '[X]의 출신지는 [Y]입니다.', KO),
      W('[X]의 출생 장소는 [Y]', '[X]의 출생 장소는 [Y]입니다.', KO),
    ],
    hu: [
      W('[X] szülőhelye [Y]', '[X] szülőhelye [Y].', HU_POSS),
      W('[X] születési helye [Y]', '[X] születési helye [Y].', HU_POSS),
      W('[X] szülővárosa [Y]', '[X] szülővárosa [Y].', HU_POSS),
      W(
        '[X] a következő helyen született: [Y]',
        '[X] a következő helyen született: [Y].',
        'hu: the colon construction keeps the object in the nominative (no locative suffix)',
      ),
    ],
    fi: [
      W('[X], jonka syntymäpaikka on [Y]', '[X], jonka syntymäpaikka on [Y].', FI_REL),
      W('[X], jonka synnyinkaupunki on [Y]', '[X], jonka synnyinkaupunki on [Y].', FI_REL),
      W('[X] syntyi paikkakunnalla nimeltä [Y]', '[X] syntyi paikkakunnalla nimeltä [Y].', FI_NIM, { source: 'mlama', pattern: '[X] syntyi [Y].' }),
      W('[X] on kotoisin paikkakunnalta nimeltä [Y]', '[X] on kotoisin paikkakunnalta nimeltä [Y].', FI_NIM, {
        source: 'chen-aligned',
        pattern: '[X] on kotoisin [Y].',
      }),
    ],
  },
  P138: {
    zh: [
      W('[X]得名于[Y]', '[X]得名于[Y]。', ZH),
      W('[X]的名称来源于[Y]', '[X]的名称来源于[Y]。', ZH),
      W('[X]的名字取自[Y]', '[X]的名字取自[Y]。', ZH),
      W('[X]之名源自[Y]', '[X]之名源自[Y]。', ZH),
    ],
    ja: [
      W('[X]の名前の由来は[Y]', '[X]の名前の由来は[Y]です。', JA),
      W('[X]の名称の由来は[Y]', '[X]の名称の由来は[Y]です。', JA),
      W('[X]の命名の由来となったのは[Y]', '[X]の命名の由来となったのは[Y]です。', JA),
      W('[X]の名前のもとになったのは[Y]', '[X]の名前のもとになったのは[Y]です。', JA),
    ],
    ko: [
      W('[X] 이름의 유래는 [Y]', '[X] 이름의 유래는 [Y]입니다.', KO),
      W('[X] 명칭의 유래는 [Y]', '[X] 명칭의 유래는 [Y]입니다.', KO),
      W('[X]의 이름을 따온 대상은 [Y]', '[X]의 이름을 따온 대상은 [Y]입니다.', KO),
      W('[X]의 명칭 유래는 [Y]', '[X]의 명칭 유래는 [Y]입니다.', KO),
    ],
    hu: [
      W('[X] névadója [Y]', '[X] névadója [Y].', HU_POSS),
      W('[X] nevének eredete: [Y]', '[X] nevének eredete: [Y].', HU_COLON),
      W('[X] a nevét a következőről kapta: [Y]', '[X] a nevét a következőről kapta: [Y].', HU_COLON),
      W('[X] elnevezésének forrása: [Y]', '[X] elnevezésének forrása: [Y].', HU_COLON),
    ],
    fi: [
      W('[X], jonka nimen taustalla on [Y]', '[X], jonka nimen taustalla on [Y].', FI_REL),
      W('[X], jonka nimen alkuperä on [Y]', '[X], jonka nimen alkuperä on [Y].', FI_REL),
      W('[X] on nimetty seuraavan mukaan: [Y]', '[X] on nimetty seuraavan mukaan: [Y].', 'fi: the colon keeps the object in the nominative', {
        source: 'chen-aligned',
        pattern: '[X] on nimetty [Y]:n mukaan.',
      }),
      W('[X] sai nimensä seuraavan mukaan: [Y]', '[X] sai nimensä seuraavan mukaan: [Y].', 'fi: the colon keeps the object in the nominative', {
        source: 'chen-aligned',
        pattern: '[X] sai nimensä [Y]:ltä.',
      }),
    ],
  },
  P463: {
    en: [
      W('[X] is part of the organization [Y]', '[X] is part of the organization [Y].', 'en: object moved last', {
        source: 'pararel',
        pattern: '[X] is a part of the [Y] organization.',
      }),
      W('[X] is affiliated with the organization [Y]', '[X] is affiliated with the organization [Y].', 'en: object moved last', {
        source: 'pararel',
        pattern: '[X] is affiliated with the [Y] organization.',
      }),
    ],
    zh: [
      W('[X]隶属于[Y]', '[X]隶属于[Y]。', ZH),
      W('[X]加入了[Y]', '[X]加入了[Y]。', ZH),
      W('[X]所属的组织是[Y]', '[X]所属的组织是[Y]。', ZH),
      W('[X]属于[Y]', '[X]属于[Y]。', ZH),
    ],
    ja: [
      W('[X]が所属する組織は[Y]', '[X]が所属する組織は[Y]です。', JA),
      W('[X]が加盟している組織は[Y]', '[X]が加盟している組織は[Y]です。', JA),
      W('[X]の所属先は[Y]', '[X]の所属先は[Y]です。', JA),
      W('[X]が加盟する団体は[Y]', '[X]が加盟する団体は[Y]です。', JA),
    ],
    ko: [
      W('[X]의 소속은 [Y]', '[X]의 소속은 [Y]입니다.', KO),
      W('[X]의 소속 단체는 [Y]', '[X]의 소속 단체는 [Y]입니다.', KO),
      W('[X]의 소속 기구는 [Y]', '[X]의 소속 기구는 [Y]입니다.', KO),
      W('[X]의 소속 조직은 [Y]', '[X]의 소속 조직은 [Y]입니다.', KO),
    ],
    hu: [
      W('[X] a következő szervezet tagja: [Y]', '[X] a következő szervezet tagja: [Y].', HU_COLON),
      W('[X] a következő szervezethez tartozik: [Y]', '[X] a következő szervezethez tartozik: [Y].', HU_COLON),
      W('[X] az alábbi szervezet tagja: [Y]', '[X] az alábbi szervezet tagja: [Y].', HU_COLON),
      W('[X] az alábbi szervezethez tartozik: [Y]', '[X] az alábbi szervezethez tartozik: [Y].', HU_COLON),
    ],
    fi: [
      W('[X] kuuluu järjestöön nimeltä [Y]', '[X] kuuluu järjestöön nimeltä [Y].', FI_NIM),
      W('[X] on liittynyt järjestöön nimeltä [Y]', '[X] on liittynyt järjestöön nimeltä [Y].', FI_NIM),
      W('[X] on jäsenenä järjestössä nimeltä [Y]', '[X] on jäsenenä järjestössä nimeltä [Y].', FI_NIM),
      W('[X] kuuluu organisaatioon nimeltä [Y]', '[X] kuuluu organisaatioon nimeltä [Y].', FI_NIM),
    ],
  },
  P36: {
    fr: [W('[X] a pour capitale [Y]', '[X] a pour capitale [Y].', 'fr: most object-last source patterns mistranslate "capital"')],
    zh: [
      W('[X]的首府是[Y]', '[X]的首府是[Y]。', 'zh: 首府 is the usual word for the capital of a province, state or region'),
      W('[X]的政府所在地是[Y]', '[X]的政府所在地是[Y]。', ZH),
    ],
    ja: [
      W('[X]の首府は[Y]', '[X]の首府は[Y]です。', JA),
      W('[X]の中心都市は[Y]', '[X]の中心都市は[Y]です。', JA),
      W('[X]の行政中心地は[Y]', '[X]の行政中心地は[Y]です。', JA),
    ],
    ko: [
      W('[X]의 주도는 [Y]', '[X]의 주도는 [Y]입니다.', KO + '; 주도 = capital of a province or state'),
      W('[X]의 행정 중심지는 [Y]', '[X]의 행정 중심지는 [Y]입니다.', KO),
      W('[X]의 중심 도시는 [Y]', '[X]의 중심 도시는 [Y]입니다.', KO),
    ],
    hu: [W('[X] székhelye [Y]', '[X] székhelye [Y].', HU_POSS), W('[X] közigazgatási központja [Y]', '[X] közigazgatási központja [Y].', HU_POSS)],
    fi: [
      W('[X], jonka hallinnollinen keskus on [Y]', '[X], jonka hallinnollinen keskus on [Y].', FI_REL),
      W('[X], jonka pääkaupunkina toimii [Y]', '[X], jonka pääkaupunkina toimii [Y].', FI_REL),
      W('[X], jonka hallintokeskus on [Y]', '[X], jonka hallintokeskus on [Y].', FI_REL),
    ],
  },
  P37: {
    en: [
      W("[X]'s official language is [Y]", "[X]'s official language is [Y].", 'en: only the mLAMA pattern has the object last'),
      W('In [X], the official language is [Y]', 'In [X], the official language is [Y].', 'en: object moved last', {
        source: 'pararel',
        pattern: 'In [X], [Y] is the official language.',
      }),
      W('Officially, the language of [X] is [Y]', 'Officially, the language of [X] is [Y].', 'en: object moved last', {
        source: 'pararel',
        pattern: 'Officially, [Y] is the language of [X].',
      }),
    ],
    zh: [
      W('[X]的官方语言为[Y]', '[X]的官方语言为[Y]。', ZH),
      W('在[X]，官方语言是[Y]', '在[X]，官方语言是[Y]。', ZH, { source: 'mpararel', pattern: '在 [X]，[Y] 是官方语言' }),
      W('[X]规定的官方语言是[Y]', '[X]规定的官方语言是[Y]。', ZH, { source: 'mpararel', pattern: '[X] 中的法律将 [Y] 定义为官方语言' }),
    ],
    fr: [
      W('[X] a pour langue officielle [Y]', '[X] a pour langue officielle [Y].', 'fr: only one natural object-last source pattern besides the mLAMA one'),
      W('La loi de [X] définit comme langue officielle [Y]', 'La loi de [X] définit comme langue officielle [Y].', 'fr: object moved last', {
        source: 'mpararel',
        pattern: 'la loi dans [X] définit [Y] comme la langue officielle',
      }),
      W('Officiellement, la langue de [X] est [Y]', 'Officiellement, la langue de [X] est [Y].', 'fr: object moved last', {
        source: 'mpararel',
        pattern: 'officiellement, [Y] est la langue de [X]',
      }),
    ],
    ja: [
      W('[X]で公用語とされているのは[Y]', '[X]で公用語とされているのは[Y]です。', JA),
      W('[X]の公式言語は[Y]', '[X]の公式言語は[Y]です。', JA),
      W('[X]で公式に使われている言語は[Y]', '[X]で公式に使われている言語は[Y]です。', JA),
    ],
    ko: [
      W('[X]의 공용어는 [Y]', '[X]의 공용어는 [Y]입니다.', KO),
      W('[X]에서 쓰이는 공용어는 [Y]', '[X]에서 쓰이는 공용어는 [Y]입니다.', KO),
      W('[X]에서 공식적으로 사용하는 언어는 [Y]', '[X]에서 공식적으로 사용하는 언어는 [Y]입니다.', KO),
    ],
    hu: [
      W('[X] hivatalos nyelve: [Y]', '[X] hivatalos nyelve: [Y].', HU_COLON, { source: 'xfactr', pattern: '[X] hivatalos nyelve a [Y] .' }),
      W('[X] államnyelve: [Y]', '[X] államnyelve: [Y].', HU_COLON),
      W('[X] hivatalosan használt nyelve: [Y]', '[X] hivatalosan használt nyelve: [Y].', HU_COLON),
      W('A hivatalos nyelv [X] területén: [Y]', 'A hivatalos nyelv [X] területén: [Y].', HU_COLON),
    ],
    fi: [
      W('[X], jonka virallinen kieli on [Y]', '[X], jonka virallinen kieli on [Y].', FI_REL, { source: 'mlama', pattern: '[X]: n virallinen kieli on [Y].' }),
      W('[X], jossa virallinen kieli on [Y]', '[X], jossa virallinen kieli on [Y].', FI_REL),
      W('[X], jonka virallisena kielenä on [Y]', '[X], jonka virallisena kielenä on [Y].', FI_REL),
      W('[X], jossa virallisena kielenä on [Y]', '[X], jossa virallisena kielenä on [Y].', FI_REL),
    ],
  },
  P101: {
    ja: [W('[X]の専門分野は[Y]', '[X]の専門分野は[Y]です。', JA), W('[X]の研究分野は[Y]', '[X]の研究分野は[Y]です。', JA)],
    hu: [
      W('[X] szakterülete: [Y]', '[X] szakterülete: [Y].', HU_COLON, { source: 'chen-aligned', pattern: '[X] szakterülete [Y].' }),
      W('[X] tevékenységi köre: [Y]', '[X] tevékenységi köre: [Y].', HU_COLON, { source: 'chen-aligned', pattern: '[X] tevékenységi köre [Y].' }),
      W('[X] tevékenységi területe: [Y]', '[X] tevékenységi területe: [Y].', HU_COLON, { source: 'mpararel', pattern: '[X] tevékenységi területe [Y]' }),
      W('[X] munkaterülete: [Y]', '[X] munkaterülete: [Y].', HU_COLON, { source: 'mpararel', pattern: '[X] munkaterülete [Y]' }),
    ],
    fi: [
      W('[X], jonka erikoisala on [Y]', '[X], jonka erikoisala on [Y].', FI_REL, { source: 'chen-aligned', pattern: '[X]:n erikoisala on [Y].' }),
      W('[X], jonka tutkimusala on [Y]', '[X], jonka tutkimusala on [Y].', FI_REL),
      W('[X], jonka toimiala on [Y]', '[X], jonka toimiala on [Y].', FI_REL, { source: 'chen-aligned', pattern: '[X]:n toimiala on [Y].' }),
      W('[X], jonka asiantuntemusalue on [Y]', '[X], jonka asiantuntemusalue on [Y].', FI_REL, {
        source: 'chen-aligned',
        pattern: '[X]:n asiantuntemus on [Y].',
      }),
    ],
  },
  P937: {
    zh: [
      W('[X]曾工作于[Y]', '[X]曾工作于[Y]。', ZH),
      W('[X]工作过的城市是[Y]', '[X]工作过的城市是[Y]。', ZH),
      W('[X]的工作所在地是[Y]', '[X]的工作所在地是[Y]。', ZH),
    ],
    ja: [
      W('[X]の勤務地は[Y]', '[X]の勤務地は[Y]です。', JA),
      W('[X]が働いていた場所は[Y]', '[X]が働いていた場所は[Y]です。', JA),
      W('[X]の活動拠点は[Y]', '[X]の活動拠点は[Y]です。', JA),
      W('[X]が勤務していた都市は[Y]', '[X]が勤務していた都市は[Y]です。', JA),
    ],
    ko: [
      W('[X]의 근무지는 [Y]', '[X]의 근무지는 [Y]입니다.', KO),
      W('[X]의 활동 지역은 [Y]', '[X]의 활동 지역은 [Y]입니다.', KO),
      W('[X]의 주 활동지는 [Y]', '[X]의 주 활동지는 [Y]입니다.', KO),
      W('[X]의 직장 소재지는 [Y]', '[X]의 직장 소재지는 [Y]입니다.', KO),
    ],
    hu: [
      W('[X] a következő városban dolgozott: [Y]', '[X] a következő városban dolgozott: [Y].', HU_COLON),
      W('[X] munkavégzésének helye: [Y]', '[X] munkavégzésének helye: [Y].', HU_COLON),
      W('[X] működésének helyszíne: [Y]', '[X] működésének helyszíne: [Y].', HU_COLON),
      W('[X] a következő helyen dolgozott: [Y]', '[X] a következő helyen dolgozott: [Y].', HU_COLON),
    ],
    fi: [
      W('[X] työskenteli paikkakunnalla nimeltä [Y]', '[X] työskenteli paikkakunnalla nimeltä [Y].', FI_NIM, {
        source: 'mpararel',
        pattern: '[X] työskenteli [Y]',
      }),
      W('[X] työskenteli kaupungissa nimeltä [Y]', '[X] työskenteli kaupungissa nimeltä [Y].', FI_NIM),
      W('[X], jonka työpaikkakunta oli [Y]', '[X], jonka työpaikkakunta oli [Y].', FI_REL),
      W('[X], jonka työskentelypaikka oli [Y]', '[X], jonka työskentelypaikka oli [Y].', FI_REL),
    ],
  },
  P176: {
    zh: [W('[X]的制造商是[Y]', '[X]的制造商是[Y]。', ZH), W('[X]的开发商是[Y]', '[X]的开发商是[Y]。', ZH), W('[X]的厂商是[Y]', '[X]的厂商是[Y]。', ZH)],
    ja: [
      W('[X]の製造元は[Y]', '[X]の製造元は[Y]です。', JA),
      W('[X]のメーカーは[Y]', '[X]のメーカーは[Y]です。', JA),
      W('[X]を製造しているのは[Y]', '[X]を製造しているのは[Y]です。', JA),
      W('[X]の開発元は[Y]', '[X]の開発元は[Y]です。', JA),
    ],
    ko: [
      W('[X]의 제조사는 [Y]', '[X]의 제조사는 [Y]입니다.', KO),
      W('[X]의 제조업체는 [Y]', '[X]의 제조업체는 [Y]입니다.', KO),
      W('[X]의 생산 업체는 [Y]', '[X]의 생산 업체는 [Y]입니다.', KO),
      W('[X]의 개발사는 [Y]', '[X]의 개발사는 [Y]입니다.', KO),
    ],
    hu: [
      W('[X] gyártója: [Y]', '[X] gyártója: [Y].', HU_COLON),
      W('[X] fejlesztője: [Y]', '[X] fejlesztője: [Y].', HU_COLON),
      W('[X] előállítója: [Y]', '[X] előállítója: [Y].', HU_COLON),
      W('[X] a következő vállalat terméke: [Y]', '[X] a következő vállalat terméke: [Y].', HU_COLON),
    ],
    fi: [W('[X], jonka valmistaja on [Y]', '[X], jonka valmistaja on [Y].', FI_REL)],
  },
};
