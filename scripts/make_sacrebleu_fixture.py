#!/usr/bin/env python3
"""Generate Tests/S2SMetricsTests/Fixtures/sacrebleu_cases.json: BLEU, chrF and chrF++ cases
scored by sacreBLEU itself, which S2SMetricsTests checks s2s against (4 decimals, exact counts).

Needs: pip install sacrebleu   (the fixture records the version it was made with)
Run:   python3 scripts/make_sacrebleu_fixture.py [CORPUS_DIR]
       CORPUS_DIR defaults to ../shared/corpora/multi30k-en-fr (Multi30k en-fr).

Real sentences come from Multi30k val.fr (references) with deterministic perturbations as
hypotheses; hand-written edge cases cover empty lines, zero matches, Unicode punctuation,
numbers with separators, HTML entities, very short sentences and several references. Every
tokenizer, lowercasing, every smoothing method and sentence-level scoring are exercised.
"""
import json
import os
import random
import sys

import sacrebleu
from sacrebleu.metrics import BLEU, CHRF

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "corpora", "multi30k-en-fr")
OUT = os.path.join(ROOT, "Tests", "S2SMetricsTests", "Fixtures", "sacrebleu_cases.json")

rng = random.Random(20261123)


def read(name):
    with open(os.path.join(CORPUS, name), encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


val_fr = read("val.fr")
test_fr = read("test_2016_flickr.fr")


def perturb(sentence):
    """A plausible MT-like error: drop, swap, replace, duplicate, truncate, re-case, re-punctuate."""
    words = sentence.split()
    kind = rng.randrange(9)
    if not words:
        return sentence
    if kind == 0 and len(words) > 2:
        del words[rng.randrange(len(words))]
    elif kind == 1 and len(words) > 3:
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    elif kind == 2:
        words[rng.randrange(len(words))] = rng.choice(["le", "une", "chien", "homme", "rouge", "!", "2,5", "l'eau"])
    elif kind == 3:
        i = rng.randrange(len(words))
        words.insert(i, words[i])
    elif kind == 4 and len(words) > 4:
        words = words[: rng.randrange(2, len(words))]
    elif kind == 5:
        return sentence.upper() if rng.random() < 0.5 else sentence.lower()
    elif kind == 6:
        return sentence.rstrip(".") + rng.choice([" .", "...", " !", "?", " «ok»", "…"])
    elif kind == 7:
        rng.shuffle(words)
    return " ".join(words)


EDGE = [
    # (hypotheses, [reference sets])
    ([""], [["Un homme marche."]]),
    (["Un homme marche."], [[""]]),
    ([""], [[""]]),
    (["zzz yyy xxx"], [["Un homme marche dans la rue."]]),
    (["chat"], [["chat"]]),
    (["a"], [["a b"]]),
    (["Le chat , le chien ."], [["Le chat, le chien."]]),
    (["« Bonjour » — dit-il… « Très bien ! »"], [["«Bonjour» — dit-il... «Très bien !»"]]),
    (["Il a payé 1,000.50 $ pour 3-4 livres en 2019."], [["Il a payé 1,000.50$ pour 3 - 4 livres en 2019."]]),
    (["Tom &amp; Jerry &quot;rient&quot; &lt;fort&gt; &amp;lt;"], [["Tom & Jerry \"rient\" <fort> &lt;"]]),
    (["A <skipped> B C"], [["A B C"]]),
    (["Prix : 12.5% , 3.14 et 1.000.000 ."], [["Prix: 12.5%, 3.14 et 1.000.000."]]),
    (["C'est l'été , n'est-ce pas ?"], [["C'est l'été, n'est-ce pas?"]]),
    (["ÉCOLE Élève ÇA ŒUVRE"], [["école élève ça œuvre"]]),
    (["€5 + £3 = ¥ ? © ™ ±2 °C"], [["5€ + 3£ = ¥? ©™ ± 2°C"]]),
    (["東京 は 大きい 。", "日本語のテキスト"], [["東京は大きい。", "日本語 の テキスト"]]),
    (["non\u00a0breaking\u2009spaces\u3000here", "tab\there  double"], [["non breaking spaces here", "tab here double"]]),
    (["trailing spaces   ", "  leading"], [["trailing spaces", "leading"]]),
    (["1.", "a.b,c", ".,;:"], [["1 .", "a . b , c", ". , ; :"]]),
    (["Un homme .", "Une femme ."], [["Un homme.", "Une femme."], ["Un monsieur .", "Une dame ."]]),
    (["le le le le le le le"], [["le chat est sur le tapis"], ["il y a un chat sur le tapis"]]),
    (["the cat"], [["the cat sat"], ["the cat"], ["a cat"]]),
    (["x"], [["y"]]),
    (["un deux trois quatre cinq"], [["un deux trois quatre cinq six sept huit"]]),
    (["un deux trois quatre cinq six sept huit neuf dix"], [["un deux trois"]]),
    (["¿Qué? ¡Sí! — «Non»", "‘quoted’ “double” „low“"], [["¿ Qué ? ¡ Sí ! — « Non »", "‘ quoted ’ “ double ” „ low “"]]),
    (["x-y 3- 4-5 a-", "hello-\nworld"], [["x-y 3 - 4-5 a-", "helloworld"]]),
    (["İstanbul ΣΟΦΟΣ straße"], [["istanbul σοφος strasse"]]),
]


def val_block(size):
    start = rng.randrange(len(val_fr) - size)
    refs = val_fr[start:start + size]
    return [perturb(r) for r in refs], [refs]


def multi_ref_block(size, nrefs):
    start = rng.randrange(len(val_fr) - size)
    refs = val_fr[start:start + size]
    extra = [[perturb(r) for r in refs] for _ in range(nrefs - 1)]
    return [perturb(r) for r in refs], [refs] + extra


BLEU_CONFIGS = []
for tok in ["13a", "intl", "char", "none"]:
    for lowercase in [False, True]:
        for smooth, value in [("exp", None), ("floor", None), ("floor", 0.3), ("add-k", None),
                              ("add-k", 2), ("none", None)]:
            BLEU_CONFIGS.append(dict(tokenize=tok, lowercase=lowercase, smooth_method=smooth, smooth_value=value))


def bleu_case(hyps, refs, config, sentence):
    metric = BLEU(effective_order=sentence, **config)
    stats = metric._extract_corpus_statistics(hyps, refs)
    total = [sum(col) for col in zip(*stats)]
    score = metric.corpus_score(hyps, refs)
    case = {
        "metric": "bleu", "hyps": hyps, "refs": refs,
        "tokenize": config["tokenize"], "lowercase": config["lowercase"],
        "smooth": config["smooth_method"], "smooth_value": config["smooth_value"],
        "sentence": sentence,
        "tokenized": [metric.tokenizer(h.lower() if config["lowercase"] else h) for h in hyps],
        "score": score.score, "precisions": score.precisions, "bp": score.bp, "ratio": score.ratio,
        "sys_len": total[0], "ref_len": total[1], "correct": total[2:6], "total": total[6:10],
        "signature": str(metric.get_signature()),
        "formatted": score.format(width=2, signature=str(metric.get_signature())),
    }
    if sentence:
        case["sentence_scores"] = [metric.sentence_score(h, [r[i] for r in refs]).score for i, h in enumerate(hyps)]
    return case


def chrf_case(hyps, refs, word_order, lowercase, whitespace, eps, sentence):
    metric = CHRF(word_order=word_order, lowercase=lowercase, whitespace=whitespace, eps_smoothing=eps)
    stats = metric._extract_corpus_statistics(hyps, refs)
    total = [sum(col) for col in zip(*stats)]
    score = metric.corpus_score(hyps, refs)
    case = {
        "metric": "chrf", "hyps": hyps, "refs": refs, "word_order": word_order, "lowercase": lowercase,
        "whitespace": whitespace, "eps_smoothing": eps, "sentence": sentence,
        "score": score.score, "stats": total, "signature": str(metric.get_signature()),
        "formatted": score.format(width=2, signature=str(metric.get_signature())),
    }
    if sentence:
        case["sentence_scores"] = [metric.sentence_score(h, [r[i] for r in refs]).score for i, h in enumerate(hyps)]
    return case


cases = []
# Every edge case under every tokenizer × case × smoothing would be too big: rotate configs,
# and give each edge case the default configuration plus four rotating ones.
config_index = 0
for hyps, refs in EDGE:
    cases.append(bleu_case(hyps, refs, BLEU_CONFIGS[0], False))
    for _ in range(4):
        cases.append(bleu_case(hyps, refs, BLEU_CONFIGS[config_index % len(BLEU_CONFIGS)], config_index % 5 == 0))
        config_index += 1
# Real sentences: every configuration at least once, corpus- and sentence-level.
for config in BLEU_CONFIGS:
    hyps, refs = val_block(rng.choice([1, 2, 4, 6]))
    cases.append(bleu_case(hyps, refs, config, False))
    hyps, refs = multi_ref_block(rng.choice([2, 3]), rng.choice([2, 3]))
    cases.append(bleu_case(hyps, refs, config, rng.random() < 0.3))
for _ in range(30):
    hyps, refs = val_block(rng.choice([1, 3, 5]))
    cases.append(bleu_case(hyps, refs, BLEU_CONFIGS[0], rng.random() < 0.5))

# Python's lower(): full mappings (İ → i̇, ß stays) and the final-sigma rule.
LOWERCASE_EDGE = [
    (["İstanbul ΣΟΦΟΣ straße", "ὈΔΥΣΣΕΎΣ Σ ΑΣ. ΣΑΣ"], [["istanbul σοφος strasse", "ὀδυσσεύς σ ας. σας"]]),
    (["ÉCOLE Élève ÇA ŒUVRE ǅ ΐ"], [["école élève ça œuvre ǆ ΐ"]]),
]
for hyps, refs in LOWERCASE_EDGE:
    for tok in ["char", "13a", "intl"]:
        cases.append(bleu_case(hyps, refs, dict(tokenize=tok, lowercase=True, smooth_method="exp", smooth_value=None), False))
    cases.append(chrf_case(hyps, refs, 2, True, False, False, False))

# chrF and chrF++.
for hyps, refs in EDGE:
    cases.append(chrf_case(hyps, refs, 0, False, False, False, False))
    cases.append(chrf_case(hyps, refs, 2, rng.random() < 0.3, False, False, rng.random() < 0.3))
for i in range(40):
    if i % 3 == 0:
        hyps, refs = multi_ref_block(2, 2)
    else:
        hyps, refs = val_block(rng.choice([1, 3, 6]))
    cases.append(chrf_case(hyps, refs, [0, 2, 1][i % 3], i % 4 == 1, i % 7 == 3, i % 5 == 2, i % 6 == 0))

# Bootstrap: sacreBLEU's confidence intervals and paired test on 200 real lines.
os.environ["SACREBLEU_SEED"] = "12345"
refs = test_fr[:200]
sys1 = [perturb(r) for r in refs]
sys2 = [perturb(perturb(r)) for r in refs]
bleu = BLEU(references=[refs])
chrf = CHRF(references=[refs])
bleu_ci = BLEU().corpus_score(sys1, [refs], n_bootstrap=1000)
chrf_ci = CHRF().corpus_score(sys1, [refs], n_bootstrap=1000)
from sacrebleu.significance import PairedTest
sigs, paired = PairedTest([("base", sys1), ("sys2", sys2)], {"BLEU": BLEU(references=[refs])},
                          references=None, test_type="bs", n_samples=1000)()
bootstrap = {
    "refs": refs, "sys1": sys1, "sys2": sys2,
    "bleu": {"score": bleu_ci.score, "mean": float(bleu_ci._mean), "ci": float(bleu_ci._ci),
             "formatted": bleu_ci.format(width=2, signature=str(BLEU(references=[refs]).get_signature()))},
    "chrf": {"score": chrf_ci.score, "mean": float(chrf_ci._mean), "ci": float(chrf_ci._ci)},
    "paired_bleu": [{"score": float(r.score), "p_value": None if r.p_value is None else float(r.p_value), "mean": float(r.mean), "ci": float(r.ci)}
                    for r in paired["BLEU"]],
}

# Keep the fixture small: tokenized text and formatted lines only for a sample of cases.
for index, case in enumerate(cases):
    if index % 4 != 0:
        case.pop("tokenized", None)
        case.pop("formatted", None)
        case.pop("signature", None)
fixture = {"sacrebleu_version": sacrebleu.__version__, "cases": cases, "bootstrap": bootstrap}
with open(OUT, "w", encoding="utf-8") as f:
    json.dump(fixture, f, ensure_ascii=False, separators=(",", ":"))
n_bleu = sum(c["metric"] == "bleu" for c in cases)
print(f"wrote {OUT}: {n_bleu} BLEU and {len(cases) - n_bleu} chrF cases, "
      f"{os.path.getsize(OUT)} bytes, sacrebleu {sacrebleu.__version__}")
