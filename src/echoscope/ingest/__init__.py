"""Ingest: every reader turns its format into Documents (or Rejects) for the store.

``pipeline.ingest`` is the entry point; ``detect.read_source`` picks the reader.
"""

from echoscope.ingest.base import ReadOptions
from echoscope.ingest.pipeline import IngestSummary, ingest

__all__ = ["IngestSummary", "ReadOptions", "ingest"]
