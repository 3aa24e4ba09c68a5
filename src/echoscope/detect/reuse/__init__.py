"""Text reuse: which passages of which documents were copied from which others.

Steps, each a pure function over batches so any engine can run them:
``shingles`` (tokens -> hashed word n-grams) -> ``minhash`` (signatures) -> ``lsh``
(near-duplicate candidates) and ``containment`` (a short passage inside a long text) ->
``align`` (exact passages with offsets) -> ``classify`` -> ``clusters``.
"""
