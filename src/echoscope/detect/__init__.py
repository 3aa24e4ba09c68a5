"""Detect: the stages that find relations between documents (reuse, claims, coordination).

Each stage reads documents from the store and writes its results back, so it can be
re-run on its own and process new documents incrementally.
"""
