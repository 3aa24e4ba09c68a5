"""echoscope: where a piece of text came from and who repeated it.

The package follows the data flow: ``ingest`` reads sources into documents, ``store``
keeps them in one DuckDB file, and later stages (detect, trace, present) read from and
write back to that store.
"""

__version__ = "0.1.0"

from echoscope.model import Document, Reject, TimePrecision, TimeSource

__all__ = ["Document", "Reject", "TimePrecision", "TimeSource", "__version__"]
