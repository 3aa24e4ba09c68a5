"""The store: one embedded DuckDB file that every stage reads from and writes to."""

from echoscope.store.db import DEFAULT_DB, Store, StoreError

__all__ = ["DEFAULT_DB", "Store", "StoreError"]
