"""The built-in example: an invented news event with its ground truth (see data/README.md)."""

from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
