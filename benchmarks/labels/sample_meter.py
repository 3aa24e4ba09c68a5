"""Draw the hand-labelled METER samples reproducibly, so anyone can check the labels
against the same articles. A seeded shuffle of every newspaper article path, sorted first so
the draw does not depend on the file system's order.

    python benchmarks/labels/sample_meter.py --seed 5 --n 100                 # first sample
    python benchmarks/labels/sample_meter.py --seed 55 --n 50 --exclude benchmarks/labels/meter_attribution.csv
    python benchmarks/labels/sample_meter.py --seed 5 --n 100 --show          # print the texts
    python benchmarks/labels/sample_meter.py --folder PA --seed 7 --n 100     # PA wire sample
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import DATA


def newspaper_paths(data: Path, folder: str = "newspapers") -> list[str]:
    """Every article of one METER folder (newspapers or PA), relative to the data folder."""
    return sorted(p.relative_to(data).as_posix() for p in (data / folder).rglob("*.txt"))


def draw(
    data: Path, seed: int, n: int, exclude: set[str] = frozenset(), folder: str = "newspapers"
) -> list[str]:
    """The first n of a seeded shuffle, skipping articles already in another sample."""
    paths = newspaper_paths(data, folder)
    random.Random(seed).shuffle(paths)
    return [p for p in paths if p not in exclude][:n]


def read_text(path: Path) -> str:
    """The corpus is mostly ASCII with Latin-1 in places."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA / "meter-courts")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--exclude", type=Path, action="append", default=[])
    parser.add_argument(
        "--folder",
        choices=["newspapers", "PA"],
        default="newspapers",
        help="draw newspaper articles (default) or PA wire texts",
    )
    parser.add_argument("--show", action="store_true", help="print each article's text")
    parser.add_argument("--start", type=int, default=0, help="with --show: first index")
    parser.add_argument("--stop", type=int, default=None, help="with --show: past the last")
    args = parser.parse_args()
    exclude: set[str] = set()
    for f in args.exclude:
        with open(f, newline="", encoding="utf-8") as fh:
            exclude |= {row["path"] for row in csv.DictReader(fh)}
    sample = draw(args.data, args.seed, args.n, exclude, args.folder)
    for i, rel in enumerate(sample):
        if not args.show:
            print(rel)
        elif args.start <= i < (args.stop if args.stop is not None else len(sample)):
            print(f"\n##### [{i}] {rel}\n{read_text(args.data / rel).strip()}")


if __name__ == "__main__":
    main()
