import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def store(tmp_path):
    from echoscope.store import Store

    with Store(tmp_path / "test.duckdb") as s:
        yield s


@pytest.fixture(scope="session")
def embedder():
    """The packaged sentence model, loaded once for every test that embeds."""
    from echoscope.detect.claims.embed import Embedder

    return Embedder()
