from pathlib import Path

import pytest

import searchkit

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
# Real corpora, read in place (see ../shared/data/README.md); never copied into the repository.
DATA = REPO.parent / "shared" / "data"

S000 = "000_fa59a08e2227003b"
S001 = "001_e9706742b5579535"
S002 = "002_978e6dbf49f5cf3e"
S003 = "003_93788672175678e1"
S004 = "004_f5241064790a1c61"


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory):
    """An index of the bundled seeds, built once for the whole test run."""
    index_dir = tmp_path_factory.mktemp("seed-index")
    searchkit.build_index([SEEDS], index_dir)
    return index_dir


@pytest.fixture(scope="session")
def searcher(seed_index):
    with searchkit.open_index(seed_index) as opened:
        yield opened
