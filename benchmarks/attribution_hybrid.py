"""Rules and a learned sentence scorer together, scored where neither had seen the text.

Thirteen rounds of phrase rules reach about 0.95 on the texts they were written from and
about 0.8 on a fresh sample. The learned scorer (``attribution_train.py``) reads the
sentence and the one before it, which is where the rules fail: whose account a paragraph
is ("According to doctors" inside the prosecution's case), phrasings no rule has met.

Honest figures need text that neither the rules nor the model had seen. Every METER text
has now been read, so this replays history ("time travel"): for each blind round r from 8
on, the rules of round r's commit (checked out of git into a temporary folder) and a model
trained only on the samples read before round r score round r's sample. The rules'
figures reproduce ``labels/blind_rounds.csv`` exactly, which checks the replay.

The combination is fixed here, before any model output was seen (committed with the
trainer): a text credits a source when a rule credit lies in a sentence the model scores
at least VETO, or when any sentence scores at least ADD. The model alone is scored at
ALONE. Other thresholds are printed as a grid, marked as chosen after the fact.

    python benchmarks/attribution_hybrid.py --preds DIR [--data DIR]
"""

from __future__ import annotations

# fixed before the first model output (see the module docstring)
VETO = 0.2
ADD = 0.9
ALONE = 0.5
