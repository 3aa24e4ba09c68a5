"""A second learned opinion that trains on a CPU: logistic regression on frozen MiniLM layers.

The shipped credit scorer (``attribution_train.py``) tunes MiniLM's biases; training it
takes about 70 s a model on a GPU and about an hour on 2 CPU cores, so a stronger scorer
cannot be built and replayed where no GPU is lent. This asks whether a cheaper model adds
anything: the *base* MiniLM reads the same (sentence before, sentence) pair as the scorer,
untouched, and the masked mean of each of its seven hidden layers (embeddings and six
layers, 2,688 numbers) feeds a logistic regression. Middle layers keep more of a
sentence's structure (who speaks, to whom) than the last, which sentence similarity
shapes; the regression trains in seconds.

The protocol was committed before any replay output of this model existed:

1. ``--design``: choose the regression's strength C and the layers (all seven, or the
   last only) by 5-fold cross-validation with whole stories held out, on the texts read
   before blind round 8 only (log-loss of the held-out sentences).
2. ``--rounds``: for each blind round r (8-13), the chosen model trained only on the
   samples read before r scores round r's sample, as the BitFit scorer was replayed.
   Two score files are written for ``attribution_hybrid.py --scores``: this model alone,
   and the mean of its probability and the BitFit scorer's round score for the same
   sentence (``results/attribution_round_scores.jsonl.gz``). The thresholds stay as
   fixed before any scorer existed (veto 0.2, add 0.9).
3. The mean replaces the shipped scorer only if its replayed hybrid reaches precision
   and recall of at least 0.9 each, pooled over rounds 8-13; otherwise the figures are
   recorded here as a negative result and nothing ships.

    python benchmarks/attribution_frozen.py --design
    python benchmarks/attribution_frozen.py --rounds
    python benchmarks/attribution_hybrid.py --scores benchmarks/.cache/frozen_mean_scores.jsonl.gz \\
        --result attribution_frozen_mean
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA, write_result
from attribution_data import CACHE, build, meter_texts
from attribution_train import ROUND_SAMPLE, SAMPLES, batches

FEATURES = CACHE / "attribution_frozen_layers.npz"
BITFIT_SCORES = Path(__file__).resolve().parent / "results" / "attribution_round_scores.jsonl.gz"
C_GRID = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
LAYERS = {"all": slice(0, 7), "last": slice(6, 7)}
FOLDS = 5
HIDDEN = 384


def layer_means(rows: list[dict], batch: int = 64) -> np.ndarray:
    """Masked mean of every hidden layer of the base MiniLM over each row's pair."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from echoscope.detect.claims.embed import resolve_model
    from echoscope.trace.credit_model import native_bf16

    _, model_dir = resolve_model(None)
    tok = AutoTokenizer.from_pretrained(model_dir)
    enc = AutoModel.from_pretrained(model_dir).eval()
    bf16 = native_bf16()
    out = np.zeros((len(rows), 7, HIDDEN), dtype=np.float32)
    t0 = time.perf_counter()
    with torch.inference_mode():
        # the trainer's batches: the same pairs, tokenised the same way, by length
        for step, (idx, inputs) in enumerate(batches(tok, rows, batch, "cpu", shuffle=False)):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                states = enc(**inputs, output_hidden_states=True).hidden_states
            mask = inputs["attention_mask"].unsqueeze(-1).float()
            for layer, h in enumerate(states):
                pooled = (h.float() * mask).sum(1) / mask.sum(1).clamp(min=1.0)
                out[idx, layer] = pooled.numpy()
            if step % 50 == 0:
                done = step * batch + len(idx)
                print(f"  {done}/{len(rows)} pairs, {time.perf_counter() - t0:.0f} s", flush=True)
    return out


def features(rows: list[dict]) -> np.ndarray:
    """The layer means, cached beside the rows they were made from (a digest of the rows'
    ids and texts: new labels or a new sentence splitter make them again)."""
    digest = hashlib.blake2b(
        json.dumps([(r["path"], r["index"], r["text"]) for r in rows]).encode(), digest_size=16
    ).hexdigest()
    if FEATURES.exists():
        with np.load(FEATURES) as cached:
            if str(cached["digest"]) == digest:
                return cached["feats"]
    feats = layer_means(rows)
    np.savez(FEATURES, feats=feats, digest=np.array(digest))
    return feats


def fit(x: np.ndarray, y: np.ndarray, c: float):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=3000))
    return model.fit(x, y)


def flat(feats: np.ndarray, layers: str) -> np.ndarray:
    return feats[:, LAYERS[layers]].reshape(len(feats), -1)


def text_prf(rows: list[dict], probs: np.ndarray, threshold: float) -> dict:
    top: dict[str, float] = defaultdict(float)
    label: dict[str, bool] = {}
    for r, p in zip(rows, probs, strict=True):
        top[r["path"]] = max(top[r["path"]], float(p))
        label[r["path"]] = r["text_label"]
    tp = sum(label[k] and top[k] >= threshold for k in label)
    fp = sum(not label[k] and top[k] >= threshold for k in label)
    fn = sum(label[k] and top[k] < threshold for k in label)
    return {
        "precision": round(tp / max(1, tp + fp), 4),
        "recall": round(tp / max(1, tp + fn), 4),
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def design(rows: list[dict], feats: np.ndarray) -> dict:
    from sklearn.metrics import log_loss

    order = {name: i for i, name in enumerate(SAMPLES)}
    keep = np.array([order[r["sample"]] < ROUND_SAMPLE[8] for r in rows])
    sub = [r for r, k in zip(rows, keep, strict=True) if k]
    y = np.array([r["label"] for r in sub], dtype=int)
    stories = sorted({r["story"] for r in sub})
    rng = np.random.RandomState(0)
    rng.shuffle(stories)
    fold_of = {s: i % FOLDS for i, s in enumerate(stories)}
    folds = np.array([fold_of[r["story"]] for r in sub])
    trials = []
    for layers in LAYERS:
        x = flat(feats[keep], layers)
        for c in C_GRID:
            oof = np.zeros(len(sub))
            for k in range(FOLDS):
                model = fit(x[folds != k], y[folds != k], c)
                oof[folds == k] = model.predict_proba(x[folds == k])[:, 1]
            trial = {
                "layers": layers,
                "C": c,
                "log_loss": round(float(log_loss(y, oof)), 5),
                "texts_at_0.5": text_prf(sub, oof, 0.5),
                "texts_at_0.9": text_prf(sub, oof, 0.9),
            }
            print(json.dumps(trial), flush=True)
            trials.append(trial)
    best = min(trials, key=lambda t: t["log_loss"])
    return {
        "rows": len(sub),
        "positive": int(y.sum()),
        "texts": len({r["path"] for r in sub}),
        "trials": trials,
        "chosen": {"layers": best["layers"], "C": best["C"]},
    }


def rounds(rows: list[dict], feats: np.ndarray, layers: str, c: float, out: Path) -> None:
    bitfit: dict[tuple[int, str, int], float] = {}
    with gzip.open(BITFIT_SCORES, "rt", encoding="utf-8") as fh:
        for r in map(json.loads, fh):
            bitfit[(r["round"], r["path"], r["index"])] = r["p"]
    order = {name: i for i, name in enumerate(SAMPLES)}
    x = flat(feats, layers)
    y = np.array([r["label"] for r in rows], dtype=int)
    sample_of = np.array([order[r["sample"]] for r in rows])
    alone_path, mean_path = (
        out / "frozen_alone_scores.jsonl.gz",
        out / "frozen_mean_scores.jsonl.gz",
    )
    with gzip.open(alone_path, "wt") as alone, gzip.open(mean_path, "wt") as mean:
        for rnd, k in ROUND_SAMPLE.items():
            model = fit(x[sample_of < k], y[sample_of < k], c)
            test = np.flatnonzero(sample_of == k)
            probs = model.predict_proba(x[test])[:, 1]
            for i, p in zip(test, probs, strict=True):
                r = rows[i]
                key = {"round": rnd, "path": r["path"], "index": r["index"]}
                both = (float(p) + bitfit[(rnd, r["path"], r["index"])]) / 2
                alone.write(json.dumps({**key, "p": round(float(p), 5)}) + "\n")
                mean.write(json.dumps({**key, "p": round(both, 5)}) + "\n")
            print(f"round {rnd}: trained on {int((sample_of < k).sum())} rows", flush=True)
    print(f"wrote {alone_path} and {mean_path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA / "meter-courts")
    parser.add_argument("--design", action="store_true")
    parser.add_argument("--rounds", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    rows, _ = build(meter_texts(args.data))
    CACHE.mkdir(parents=True, exist_ok=True)
    feats = features(rows)
    design_file = CACHE / "attribution_frozen_design.json"
    if args.design:
        result = design(rows, feats)
        design_file.write_text(json.dumps(result, indent=1))
        write_result("attribution_frozen_design", result)
        print("chosen:", result["chosen"])
    if args.rounds:
        chosen = json.loads(design_file.read_text())["chosen"]
        rounds(rows, feats, chosen["layers"], chosen["C"], CACHE)


if __name__ == "__main__":
    main()
