"""Shared helpers for benchmarks: where the data is, what machine ran it, writing results."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("ECHOSCOPE_DATA", ROOT.parent / "shared" / "data"))
RESULTS = ROOT / "benchmarks" / "results"


def machine() -> dict:
    info = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    try:
        import psutil

        info["memory_gb"] = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        pass
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return info


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def git_commit() -> str | None:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def write_result(name: str, figures: dict) -> dict:
    """Add machine and date, write benchmarks/results/NAME.json, print it as the last line."""
    result = {
        **figures,
        "benchmark": name,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "machine": machine(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result))
    return result


def echoscope_cli() -> list[str]:
    """The echoscope command of this environment, to run as a child process."""
    exe = Path(sys.executable).parent / "echoscope"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "echoscope"]


METER_PA_TEMPLATE = "{date:%d.%m.%y}/{story}/{name}.txt"
METER_PAPER_TEMPLATE = "{date:%d.%m.%y}/{story}/{name}_{source}.txt"


def meter_story(doc_id: str) -> str:
    """'PA/01.03.00/burstein/burstein1.txt' -> '01.03.00/burstein' (the ground truth)."""
    return "/".join(doc_id.split("/")[1:3])


def ingest_meter(store, data: Path, tz=None, paper_date_offset_days: float = 0.0) -> None:
    """Both METER folders as a user ingests them: source, story and date from the path,
    PA filing time from the wire header."""
    from echoscope.ingest.base import ReadOptions
    from echoscope.ingest.pathtemplate import PathTemplate
    from echoscope.ingest.pipeline import ingest

    zone = {"tz": tz} if tz is not None else {}
    ingest(
        store,
        [str(data / "PA")],
        ReadOptions(source="PA", path_template=PathTemplate(METER_PA_TEMPLATE), **zone),
    )
    ingest(
        store,
        [str(data / "newspapers")],
        ReadOptions(
            path_template=PathTemplate(METER_PAPER_TEMPLATE),
            path_date_offset_days=paper_date_offset_days,
            **zone,
        ),
    )


IRA_MAPPING = "text=content,source=author,published_at=publish_date,language=language"
IRA_REUSE_FLAGS = ("--shingle", "4", "--min-shared", "3", "--max-df", "50")


def build_ira_store(db: Path) -> tuple[float, float]:
    """All IRA tweets ingested into ``db`` and the reuse stage run on them, as the scale
    benchmarks run it; returns (ingest seconds, reuse seconds)."""
    import time

    t0 = time.perf_counter()
    ira = DATA / "ira-tweets" / "tweets.csv.gz"
    cli = echoscope_cli()
    subprocess.run(
        [*cli, "ingest", str(ira), "--map", IRA_MAPPING, "--db", str(db), "--quiet"], check=True
    )
    t1 = time.perf_counter()
    subprocess.run(
        [*cli, "analyze", "--stage", "reuse", "--db", str(db), "--quiet", *IRA_REUSE_FLAGS],
        check=True,
    )
    return t1 - t0, time.perf_counter() - t1
