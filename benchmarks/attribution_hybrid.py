"""Rules and a learned sentence scorer together, scored on texts neither had read.

Thirteen rounds of phrase rules reach about 0.95 on the texts they were written from and
about 0.8 on a fresh sample. The learned scorer (``attribution_train.py``) reads the
sentence and the one before it, which is where the rules fail: whose account a paragraph
is ("According to doctors" inside the prosecution's case), phrasings no rule has met.

Honest figures need text that neither the rules nor the model had read. Every METER text
has now been read, so this replays history ("time travel"): for each blind round r from 8
on, the rules of round r's commit (checked out of git into a temporary folder) and a model
trained only on the samples read before round r score round r's sample. The rules'
figures reproduce ``labels/blind_rounds.csv`` exactly, which checks the replay. Both had
read newspaper articles of the same stories (every wire text here has a story-mate in the
earlier samples): unseen texts, not unseen stories. What is scored is the labels'
question, "does the text credit any source?", not whether a credit names the parent.

The thresholds were committed with the trainer (f86b37f), before any model output
existed: a text credits a source when a rule credit lies in a sentence the model scores
at least VETO, or when any sentence scores at least ADD. The model alone is scored at
ALONE. Other thresholds are printed as a grid, marked as chosen after the fact.
``hybrid`` is what the pipeline does (trace.credit_model.review: only phrase credits can
be vetoed, never agency credits, bylines or links, a choice made after the first replay);
``hybrid_as_first_fixed`` lets the veto reach every kind, as first committed.

The scores of each round's scorer come from ``attribution_train.py --rounds`` (run on a
GPU: about 70 s a round there, hours on 2 CPU cores) and are kept in
``results/attribution_round_scores.jsonl.gz``, so this replay runs anywhere in a minute.

    python benchmarks/attribution_hybrid.py [--scores FILE] [--data DIR] [--result NAME]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import importlib.util
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA, ROOT, write_result
from attribution_data import build, meter_texts
from echoscope.detect.claims.sentences import Sentence
from echoscope.trace.attribution import Credit, names_source
from echoscope.trace.credit_model import VETOED_KINDS, review
from meter_cascades import DEVELOPMENT, LABELS, prf, roles

# fixed before the first model output (see the module docstring)
VETO = 0.2
ADD = 0.9
ALONE = 0.5
ALL_KINDS = frozenset({"phrase", "agency", "byline", "names-source", "link", "link-domain"})
SCORES = Path(__file__).resolve().parent / "results" / "attribution_round_scores.jsonl.gz"


def blind_rounds() -> dict[int, tuple[str, str]]:
    """Round -> (rules commit, blind sample), from labels/blind_rounds.csv, rounds 8 on
    (the PA wire samples, scored with the present scorer and the byline fix)."""
    with open(LABELS / "blind_rounds.csv", encoding="utf-8") as fh:
        return {
            int(r["round"]): (r["commit"], r["blind_sample"])
            for r in csv.DictReader(fh)
            if r["round"].isdigit() and int(r["round"]) >= 8
        }


def rules_at(commit: str, folder: Path):
    """find_credits as it stood at ``commit``, loaded from git into ``folder``."""
    blob = subprocess.run(
        ["git", "archive", commit, "src/echoscope/trace"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    target = folder / commit
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(target, filter="data")
    path = target / "src/echoscope/trace/attribution.py"
    spec = importlib.util.spec_from_file_location(f"attribution_{commit}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module.find_credits


def rule_credits(find_credits, path: str, text: str) -> list:
    """The rules' credits, run as meter_cascades.py runs them."""
    parent, own = roles(path)
    # as today's Credit (an old commit's class lacks today's fields)
    return [
        Credit(c.kind, c.begin, c.end, c.text, c.credited, c.names_parent)
        for c in find_credits(text, parent_source=parent, own_source=own)
        if c.kind != "quote" and c.begin is not None
    ]


def read_scores(path: Path) -> dict[int, dict[tuple[str, int], float]]:
    """Round -> (text, sentence index) -> the scorer's probability."""
    scores: dict[int, dict[tuple[str, int], float]] = defaultdict(dict)
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for r in map(json.loads, fh):
            scores[r["round"]][(r["path"], r["index"])] = r["p"]
    return scores


def decide(
    credits: list, scored: list, veto: float, add: float, kinds=VETOED_KINDS, own=None
) -> bool:
    """What the pipeline does (trace.credit_model.review): a phrase credit stands in a
    sentence the model does not reject; a sentence the model is sure of is a credit unless
    it names the text's own outlet. (As first fixed, every kind of rule credit could be
    vetoed and self-reference was not checked: ``kinds=ALL_KINDS``, ``own=None``.)"""
    names_self = (lambda span: names_source(span, own)) if own else None
    return bool(
        review(credits, scored, veto=veto, add=add, vetoed_kinds=kinds, names_self=names_self)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA / "meter-courts")
    parser.add_argument(
        "--scores",
        type=Path,
        default=SCORES,
        help="each round's sentence scores from attribution_train.py --rounds (round, path, "
        "index, p as JSON Lines, gzip)",
    )
    parser.add_argument(
        "--result",
        default="attribution_hybrid",
        help="name of the results file (benchmarks/results/NAME.json): another scorer's "
        "replay does not overwrite the shipped one's",
    )
    args = parser.parse_args()
    texts = meter_texts(args.data)
    rows, _ = build(texts)
    by_text: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_text[row["path"]].append(row)
    grid_veto = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)
    grid_add = (0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 1.01)
    per_round, pooled = [], defaultdict(list)
    grid = defaultdict(list)
    all_scores = read_scores(args.scores)
    order = {path.name: i for i, path in enumerate(DEVELOPMENT)}  # the order samples were read
    with tempfile.TemporaryDirectory() as tmp:
        for rnd, (commit, sample) in sorted(blind_rounds().items()):
            find_credits = rules_at(commit, Path(tmp))
            preds = all_scores[rnd]
            paths = sorted({r["path"] for r in rows if r["sample"] == sample})
            outcome = defaultdict(list)
            errors = []
            for path in paths:
                sentences = by_text[path]
                credits = rule_credits(find_credits, path, texts[path])
                spans = [(c.begin, c.end) for c in credits]
                for s in sentences:
                    s["rule_here"] = any(b < s["end"] and s["start"] < e for b, e in spans)
                probs = [preds[(path, s["index"])] for s in sentences]
                scored = [
                    (Sentence(s["start"], s["end"], s["text"]), p)
                    for s, p in zip(sentences, probs, strict=True)
                ]
                label = sentences[0]["text_label"]
                rules = bool(credits)
                own = roles(path)[1]
                hybrid = decide(credits, scored, VETO, ADD, own=own)
                outcome["hybrid_as_first_fixed"].append(
                    (label, decide(credits, scored, VETO, ADD, ALL_KINDS))
                )
                alone = max(probs) >= ALONE
                outcome["rules"].append((label, rules))
                outcome["hybrid"].append((label, hybrid))
                outcome["model"].append((label, alone))
                for v in grid_veto:
                    for a in grid_add:
                        grid[(v, a)].append((label, decide(credits, scored, v, a, own=own)))
                if hybrid != label or rules != label:
                    best = max(range(len(sentences)), key=probs.__getitem__)
                    errors.append(
                        {
                            "path": path,
                            "label": label,
                            "rules": rules,
                            "hybrid": hybrid,
                            "top_sentence": sentences[best]["text"][:300],
                            "top_p": probs[best],
                            "rule_sentences": [
                                (s["text"][:200], p)
                                for s, p in zip(sentences, probs, strict=True)
                                if s["rule_here"]
                            ],
                        }
                    )
            # texts unseen, stories not: how many have a story-mate in the samples read before
            read_before = {r["story"] for r in rows if order[r["sample"]] < order[sample]}
            result = {
                "round": rnd,
                "rules_commit": commit,
                "sample": sample,
                "texts": len(paths),
                "with_story_read_before": sum(by_text[p][0]["story"] in read_before for p in paths),
            }
            for name, pairs in outcome.items():
                result[name] = prf(pairs)
                pooled[name] += pairs
            result["disagreements"] = errors
            per_round.append(result)
            print(
                f"round {rnd} ({sample}, {len(paths)} texts): "
                + "  ".join(
                    f"{n} P {result[n]['precision']} R {result[n]['recall']}"
                    for n in ("rules", "model", "hybrid")
                )
            )
    figures = {
        "what": "blind replay: rules of round r's commit and a scorer trained only on samples "
        "read before round r, both scored on round r's sample (rounds 8-13, PA wire copy)",
        "veto": VETO,
        "add": ADD,
        "alone": ALONE,
        "pooled": {name: prf(pairs) for name, pairs in pooled.items()},
        "texts_with_story_read_before": sum(r["with_story_read_before"] for r in per_round),
        "grid_after_the_fact": [
            {"veto": v, "add": a, **prf(pairs)} for (v, a), pairs in sorted(grid.items())
        ],
        "rounds": per_round,
    }
    for name in ("rules", "model", "hybrid", "hybrid_as_first_fixed"):
        print(f"pooled {name}: {figures['pooled'][name]}")
    figures["scores"] = os.path.relpath(args.scores.resolve(), ROOT)
    write_result(args.result, figures)


if __name__ == "__main__":
    main()
