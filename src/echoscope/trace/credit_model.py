"""A learned second opinion on attribution: does this sentence credit a source of the story?

The phrase rules in ``attribution`` score about 0.95 on the texts they were written from
and about 0.8 on text they had not met. Their commonest false alarm needs to know whose
account a sentence belongs to ("According to doctors the child was struck" inside the
prosecution's case is the court's, not a credit), and their misses are phrasings no rule
has met. A model that reads the sentence with the one before it helps with both.

The scorer is the packaged MiniLM read as a cross-encoder over (sentence before, sentence),
with only its biases and LayerNorm scales tuned (BitFit) and a linear head on the mean of
its tokens, trained on the 22,623 sentences of the 1,430 hand-labelled METER texts
(``benchmarks/attribution_train.py``). It ships as a 130 KB file and loads offline.

How it is used (``review``): a rule's phrase credit stands only in a sentence the scorer
gives at least ``VETO``; a sentence the scorer gives at least ``ADD`` is a credit even
if no rule found one (kind ``learned``), unless it names the text's own outlet. Links,
bylines, agency credits and quotes are never vetoed, and texts in other languages than
English (``cascade.SCORED_LANGUAGES``) keep the rules' credits as they are. The
thresholds were committed before any scorer output existed. Replayed on the 560 PA texts
of blind rounds 8-13, each scored by the rules of its day and a scorer trained only on
the samples read before it (their stories' newspaper articles among them): precision
0.93, recall 0.85, where the rules alone gave 0.83 / 0.79
(``benchmarks/attribution_hybrid.py``; sparing agency credits from the veto was decided
after the first replay, which vetoed every kind: 0.93 / 0.83).
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import replace
from importlib import resources
from pathlib import Path

import numpy as np

from echoscope.detect.claims.sentences import Sentence, split_sentences
from echoscope.trace.attribution import Credit

SCORER_FILE = "data/attribution-scorer-v1.npz"
VETO = 0.2  # a phrase credit in a sentence scored below this is dropped
ADD = 0.9  # a sentence scored at least this is a credit on its own
VETOED_KINDS = frozenset({"phrase"})
MAX_TOKENS = 128
MAX_SENTENCES = 400  # a longer text: the rest is left to the rules alone
MEMO = 4096  # texts whose scores are kept: a document is read once per run, not per edge
PREFETCH = 128  # documents scored together by Reviewer.prefetch
# How a text is cut into sentences and paired for the scorer: part of a kept score's key
# (credit_scores), so a change here is read afresh, not taken from an older run.
SCORES_VERSION = "1"
_HEAD = ("head.weight", "head.bias")  # the linear head: the scorer's own, not MiniLM's


class ScorerError(RuntimeError):
    """The scorer cannot be loaded; the message says why."""


def scorer_path() -> Path:
    return Path(str(resources.files("echoscope.trace").joinpath(SCORER_FILE)))


def _pair(text: str, sentences: list[Sentence], i: int) -> tuple[str, str]:
    """What the scorer reads: the sentence before (a paragraph break marked) and the sentence.
    The same as benchmarks/attribution_train.py trains on."""
    if i == 0:
        return "", sentences[i].text
    before = sentences[i - 1].text
    if "\n" in text[sentences[i - 1].end : sentences[i].start]:
        before += " ¶"
    return before, sentences[i].text


def native_bf16() -> bool:
    """The processor has bf16 arithmetic (AVX-512 BF16 or AMX) and this torch can use it;
    ECHOSCOPE_FP32=1 says no. Emulated bf16 is slower than fp32, so when in doubt, no."""
    import os

    import torch

    if os.environ.get("ECHOSCOPE_FP32") == "1":
        return False
    try:
        if not torch.ops.mkldnn._is_mkldnn_bf16_supported():
            return False
    except (AttributeError, RuntimeError):
        return False
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


class CreditScorer:
    """Scores every sentence of a text; loads the packaged model once."""

    def __init__(self, path: Path | None = None, *, batch_size: int = 32) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        from echoscope.detect.claims import tuned
        from echoscope.detect.claims.embed import resolve_model

        path = path or scorer_path()
        self.path = Path(path)
        _, model_dir = resolve_model(None)
        self._torch = torch
        self.batch_size = batch_size
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.encoder = AutoModel.from_pretrained(model_dir)
        try:  # the same checks and loading as the tuned claims model
            tuned.apply(self.encoder, path, skip=_HEAD, what="the attribution scorer's parameters")
        except tuned.TunedModelError as exc:
            raise ScorerError(str(exc)) from exc
        meta = tuned.meta(path)
        with np.load(path) as data:
            self.head_w = torch.from_numpy(data["head.weight"]).reshape(-1)
            self.head_b = float(data["head.bias"].reshape(-1)[0])
        if int(meta.get("max_tokens", MAX_TOKENS)) != MAX_TOKENS:
            raise ScorerError(
                f"the scorer was trained on {meta['max_tokens']} tokens, this code reads "
                f"{MAX_TOKENS}"
            )
        self.meta = meta
        self.encoder.eval()
        self.bf16 = native_bf16()
        # text digest -> (start, end, p) per sentence: a document read by several edges, or
        # by a benchmark after the cascade stage, is scored once
        self._memo: dict[bytes, np.ndarray] = {}

    def score_pairs(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        torch = self._torch
        out = np.zeros(len(pairs), dtype=np.float32)
        order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
        # the encoder in bf16 where the processor computes it natively: twice as fast, and as
        # the scorer was trained and replayed (bf16 on a GPU); elsewhere fp32
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                enc = self.tokenizer(
                    [pairs[i][0] for i in idx],
                    [pairs[i][1] for i in idx],
                    truncation="longest_first",
                    max_length=MAX_TOKENS,
                    padding=True,
                    return_tensors="pt",
                )
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
                    hidden = self.encoder(**enc).last_hidden_state
                # pooling and the head in fp32, outside autocast
                hidden = hidden.float()
                mask = enc["attention_mask"].unsqueeze(-1).float()
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
                logits = pooled @ self.head_w + self.head_b
                out[idx] = torch.sigmoid(logits).numpy()
        return out

    @functools.cached_property
    def identity(self) -> str:
        """What a kept score depends on: the scorer file, the arithmetic, how texts are read."""
        digest = hashlib.sha256(self.path.read_bytes()).hexdigest()[:16]
        precision = "bf16" if self.bf16 else "fp32"
        return f"{digest}:{precision}:{MAX_TOKENS}:{MAX_SENTENCES}:v{SCORES_VERSION}"

    def _remember(self, key: bytes, rows: np.ndarray) -> None:
        if len(self._memo) >= MEMO:
            self._memo.pop(next(iter(self._memo)))
        self._memo[key] = rows

    @staticmethod
    def _key(text: str) -> bytes:
        return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()

    def score(self, text: str) -> list[tuple[Sentence, float]]:
        """Each sentence of ``text`` (up to MAX_SENTENCES) with the chance it credits a source."""
        return self.score_texts([text])[0]

    def score_texts(
        self, texts: list[str], cache: ScoreCache | None = None
    ) -> list[list[tuple[Sentence, float]]]:
        """``score`` for several texts at once. Their sentences are batched together by
        length: one text's few sentences padded to its longest cost about half as much
        again as the same sentences sorted among many texts'. A sentence's score depends
        on its batch only at the level of float rounding (about 1e-8 in fp32, up to about
        1e-3 in bf16, where padding changes the sums). With ``cache``,
        texts scored on an earlier run are taken from the store, and new scores kept."""
        keys = [self._key(t) for t in texts]
        found = {k: self._memo[k] for k in keys if k in self._memo}
        if cache is not None:
            kept = cache.get([k for k in dict.fromkeys(keys) if k not in found])
            for key, rows in kept.items():  # read from the store once a run, then memo
                self._remember(key, rows)
            found |= kept
        todo: dict[bytes, tuple[str, list[Sentence]]] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in found and key not in todo:
                todo[key] = (text, split_sentences(text)[:MAX_SENTENCES])
        pairs = [
            _pair(text, sentences, i)
            for text, sentences in todo.values()
            for i in range(len(sentences))
        ]
        probs = self.score_pairs(pairs) if pairs else np.zeros(0, dtype=np.float32)
        if len(probs) != len(pairs):
            raise RuntimeError(f"{len(probs)} scores for {len(pairs)} sentences")
        at = 0
        for key, (_text, sentences) in todo.items():
            mine = probs[at : at + len(sentences)]
            rows = np.array(
                [(s.start, s.end, p) for s, p in zip(sentences, mine, strict=True)],
                dtype=np.float64,
            ).reshape(-1, 3)
            at += len(sentences)
            found[key] = rows
            self._remember(key, rows)
        if cache is not None and todo:
            cache.put({key: found[key] for key in todo})
        return [
            [(Sentence(int(b), int(e), text[int(b) : int(e)]), float(p)) for b, e, p in found[k]]
            for text, k in zip(texts, keys, strict=True)
        ]


class ScoreCache:
    """The scorer's sentence scores kept in the store (``credit_scores``), by text digest
    and ``CreditScorer.identity``: a run of the cascade stage reads only texts no earlier
    run read, instead of every copy again. Scores are kept as the float32 the model gave,
    so a kept score is the score. A store that cannot give or take them (read-only, full)
    turns the keeping off (``error`` says why); the scoring goes on. Rows of other scorers
    stay: switching back (``ECHOSCOPE_FP32=1`` and off) finds them again."""

    def __init__(self, con, scorer: str) -> None:
        self.con = con
        self.scorer = scorer
        self.reused = 0  # texts taken from the store
        self.error: str | None = None

    def get(self, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        import duckdb

        if not keys or self.error:
            return {}
        try:
            rows = self.con.execute(
                "SELECT digest, starts, ends, probs FROM credit_scores "
                "WHERE scorer = ? AND digest IN (SELECT unnest(?::BLOB[]))",
                [self.scorer, keys],
            ).fetchall()
        except duckdb.Error as exc:  # the texts are scored instead
            self.error = str(exc)
            return {}
        out = {}
        for digest, starts, ends, probs in rows:
            out[bytes(digest)] = np.array(
                [np.asarray(starts, np.float64), np.asarray(ends, np.float64), probs],
                dtype=np.float64,
            ).T.reshape(-1, 3)
        self.reused += len(out)
        return out

    def put(self, scored: dict[bytes, np.ndarray]) -> None:
        import duckdb
        import pyarrow as pa

        if not scored or self.error:
            return
        keys = list(scored)
        table = pa.table(
            {
                "digest": pa.array(keys, type=pa.binary()),
                "scorer": pa.array([self.scorer] * len(keys), type=pa.string()),
                "starts": pa.array(
                    [scored[k][:, 0].astype(np.int32) for k in keys], type=pa.list_(pa.int32())
                ),
                "ends": pa.array(
                    [scored[k][:, 1].astype(np.int32) for k in keys], type=pa.list_(pa.int32())
                ),
                "probs": pa.array(
                    [scored[k][:, 2].astype(np.float32) for k in keys], type=pa.list_(pa.float32())
                ),
            }
        )
        self.con.register("_credit_scores_in", table)
        try:
            self.con.execute("INSERT OR IGNORE INTO credit_scores SELECT * FROM _credit_scores_in")
        except duckdb.Error as exc:
            self.error = str(exc)
        finally:
            self.con.unregister("_credit_scores_in")


@functools.cache
def default_scorer() -> CreditScorer:
    return CreditScorer()


def review(
    credits: list[Credit],
    scored: list[tuple[Sentence, float]],
    *,
    veto: float = VETO,
    add: float = ADD,
    names_parent=None,
    names_self=None,
    vetoed_kinds: frozenset[str] = VETOED_KINDS,
) -> list[Credit]:
    """The rules' credits with the scorer's opinion: phrase credits in sentences it rejects
    are dropped, and sentences it is sure of become ``learned`` credits.

    ``names_parent(span_text) -> bool`` says whether a learned credit names the parent;
    ``names_self(span_text) -> bool`` whether it names the document's own outlet, which is
    no other source ("told the Daily Mail" in the Mail), as the rules hold too."""
    if not scored:
        return credits
    kept = []
    for c in credits:
        if c.begin is not None and c.kind != "quote":
            p = max(
                (p for s, p in scored if s.start < c.end and c.begin < s.end),
                default=None,
            )
            if p is not None:
                if c.kind in vetoed_kinds and p < veto:
                    continue
                c = replace(c, score=round(p, 4))  # the scorer's view, kept as evidence
        kept.append(c)
    for s, p in scored:
        if p < add:
            continue
        if any(
            c.kind != "quote" and c.begin is not None and c.begin < s.end and s.start < c.end
            for c in kept
        ):
            continue  # a rule already found the credit in this sentence (quoting is another)
        named = bool(names_parent and names_parent(s.text))
        if not named and names_self and names_self(s.text):
            continue
        kept.append(Credit("learned", s.start, s.end, s.text, None, named, round(p, 4)))
    return kept


class Reviewer:
    """Reviews the credits of many documents, scoring each document once, when first needed.

    The scorer loads on the first document that needs it. If it cannot load, or fails on a
    document, the rules' credits stand as they are and ``status`` says why: a run never
    loses its trees to the second opinion. ``progress(step, done, total)`` is told after
    each document scored."""

    def __init__(
        self, total: int, progress=None, scorer: CreditScorer | None = None, con=None
    ) -> None:
        self.scorer = scorer
        self.con = con  # the store's connection: scores are kept there (ScoreCache)
        self.cache: ScoreCache | None = None
        self.total = total
        self.progress = progress
        self.status = "not needed"  # the model's name once loaded, or "off: why"
        self._scored: dict = {}
        self.vetoed: set = set()
        self.learned: set = set()
        self.skipped: set = set()  # documents left to the rules (another language)

    def _load(self) -> CreditScorer | None:
        if self.scorer is None and not self.status.startswith("off"):
            try:
                self.scorer = default_scorer()
            except Exception as exc:  # any load failure: the rules alone, said plainly
                self.status = f"off: {exc}"
                return None
        if self.scorer is not None:
            self.status = str(self.scorer.meta.get("model", "on"))
            if self.con is not None and self.cache is None:
                self.cache = ScoreCache(self.con, self.scorer.identity)
        return self.scorer

    def prefetch(self, items: list[tuple], chunk: int = PREFETCH) -> None:
        """Score documents that are about to be reviewed, ``chunk`` at a time: their
        sentences batched together pad less than one document's alone. ``items`` are
        (key, text); a chunk that fails is left to ``review``, one document at a time."""
        todo = [(k, t) for k, t in dict(items).items() if t and k not in self._scored]
        if not todo or self._load() is None:
            return
        for start in range(0, len(todo), chunk):
            part = todo[start : start + chunk]
            try:
                scored = self.scorer.score_texts([t for _, t in part], cache=self.cache)
            except Exception:
                continue
            for (key, _), rows in zip(part, scored, strict=True):
                self._scored[key] = rows
            if self.progress:
                self.progress("credit model", len(self._scored), self.total)

    def review(
        self, key, text: str, credits: list[Credit], names_parent=None, names_self=None
    ) -> list[Credit]:
        scored = self._scored.get(key)
        if scored is None:
            scorer = self._load()
            if scorer is None:
                return credits
            try:
                scored = scorer.score_texts([text], cache=self.cache)[0]
            except Exception:  # one bad document keeps its rule credits
                scored = []
            self._scored[key] = scored
            if self.progress:
                self.progress("credit model", len(self._scored), self.total)
        reviewed = review(credits, scored, names_parent=names_parent, names_self=names_self)
        kept = {(c.kind, c.begin, c.end) for c in reviewed}
        self.vetoed |= {(key, c.begin) for c in credits if (c.kind, c.begin, c.end) not in kept}
        self.learned |= {(key, c.begin) for c in reviewed if c.kind == "learned"}
        return reviewed

    def finish(self) -> None:
        """Close the progress bar: not every document counted in ``total`` needed scoring."""
        if self.progress and self._scored:
            self.progress("credit model", self.total, self.total)
