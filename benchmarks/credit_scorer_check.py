"""The shipped credit scorer on this CPU: speed, and agreement with the scores it was
trained and replayed with (bf16 on a GPU, ``attribution_train.py --final``, kept in
``results/attribution_final_scores.jsonl.gz``).

Every ``--every``-th labelled METER text (in path order) is scored whole, as the cascade
stage scores a copy, in each precision this machine offers: bf16 (when the processor has
it natively; what ``CreditScorer`` picks), fp32 (``ECHOSCOPE_FP32=1``), and dynamic int8
(not used: measured here to show why). For each: sentences per second, the largest and
mean difference from the GPU's probabilities, and how many decisions at the veto (0.2)
and add (0.9) thresholds differ.

    python benchmarks/credit_scorer_check.py [--data DIR] [--every 8]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA, RESULTS, write_result
from attribution_data import meter_texts
from echoscope.trace.credit_model import ADD, VETO, CreditScorer

GPU_SCORES = RESULTS / "attribution_final_scores.jsonl.gz"


def run(scorer: CreditScorer, texts: dict[str, str], gpu: dict) -> dict:
    scorer._memo.clear()  # every mode scores afresh
    ours, theirs = [], []
    started = time.perf_counter()
    for path, text in texts.items():
        for i, (_sentence, p) in enumerate(scorer.score(text)):
            ours.append(p)
            theirs.append(gpu[(path, i)])
    seconds = time.perf_counter() - started
    a, b = np.array(ours), np.array(theirs)
    return {
        "sentences": len(a),
        "sentences_per_second": round(len(a) / seconds, 1),
        "max_abs_diff": round(float(np.abs(a - b).max()), 4),
        "mean_abs_diff": round(float(np.abs(a - b).mean()), 5),
        "flips_at_veto": int(((a >= VETO) != (b >= VETO)).sum()),
        "flips_at_add": int(((a >= ADD) != (b >= ADD)).sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA / "meter-courts")
    parser.add_argument("--every", type=int, default=8)
    args = parser.parse_args()
    with gzip.open(GPU_SCORES, "rt", encoding="utf-8") as fh:
        gpu = {(r["path"], r["index"]): r["p"] for r in map(json.loads, fh)}
    everything = meter_texts(args.data)
    paths = sorted({path for path, _ in gpu})[:: args.every]
    texts = {p: everything[p] for p in paths}
    scorer = CreditScorer()
    native = scorer.bf16
    modes = {}
    if native:
        modes["bf16"] = run(scorer, texts, gpu)
    scorer.bf16 = False
    modes["fp32"] = run(scorer, texts, gpu)
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scorer.encoder = torch.ao.quantization.quantize_dynamic(
            scorer.encoder, {torch.nn.Linear}, dtype=torch.qint8
        )
    modes["int8_dynamic"] = run(scorer, texts, gpu)
    for name, figures in modes.items():
        print(name, figures)
    write_result(
        "credit_scorer_check",
        {
            "texts": len(texts),
            "native_bf16": native,
            "default": "bf16" if native else "fp32",
            "modes": modes,
        },
    )


if __name__ == "__main__":
    main()
