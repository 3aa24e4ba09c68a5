"""Engines run the detect stages' pure steps over batches of documents.

``local`` (the default) uses this machine's cores with NumPy; a Spark engine implements
the same methods for corpora that outgrow one machine. Both must give the same results.
"""

from echoscope.engine.local import LocalEngine

ENGINES = {"local": LocalEngine}


def get_engine(name: str = "local", **options):
    try:
        return ENGINES[name](**options)
    except KeyError:
        raise ValueError(f"unknown engine {name!r}; available: {', '.join(ENGINES)}") from None


__all__ = ["ENGINES", "LocalEngine", "get_engine"]
