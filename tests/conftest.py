import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
import samples
from hypothesis import settings

import searchkit

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
# Real corpora, read in place (see ../shared/data/README.md); never copied into the repository.
# They lie beside the repository in CI, not on a user's machine: see needs_data.
DATA = REPO.parent / "shared" / "data"

# Hypothesis's profiles, chosen by HYPOTHESIS_PROFILE. CI ("ci") replays a fixed set of examples,
# so that a landing never depends on luck; other runs ("dev") draw new ones every time, to keep
# finding what is still there; "long" is a soak run by hand, with ten times the examples. No
# deadline: a test must not depend on the machine's speed.
settings.register_profile("dev", deadline=None)
settings.register_profile("ci", settings.get_profile("dev"), derandomize=True, database=None,
                          print_blob=True)
settings.register_profile("long", settings.get_profile("dev"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def needs_data(*parts):
    """A mark for a test that reads ../shared/data/PARTS: skipped, with a one-line reason, where
    it is absent (CI has it; SEARCHKIT_TEST_DATA=required makes its absence an error there)."""
    path = DATA.joinpath(*parts)
    return pytest.mark.skipif(not path.exists(), reason=f"needs ../shared/data/{'/'.join(parts)} "
                              "beside the repository (the corpora CI reads)")


def samples_and(*corpora):
    """The values of a test's ``corpus`` parameter: "samples" (tests/samples.py), always, and the
    named corpora of ../shared/data (joined by "+"), where they are."""
    return ["samples", pytest.param("+".join(corpora), marks=[needs_data(c) for c in corpora])]


def sources(corpus, folder):
    """What a test index is built from: the seeds with the invented samples (written into
    ``folder``), or with the first 40 BBC politics articles (read in place)."""
    if corpus == "samples":
        return [SEEDS, samples.write_folder(folder)]
    return [SEEDS] + sorted((DATA / "bbc" / "politics").glob("*.txt"))[:40]


def pytest_configure(config):
    if os.environ.get("SEARCHKIT_TEST_DATA") == "required" and not DATA.is_dir():
        raise pytest.UsageError(f"SEARCHKIT_TEST_DATA=required but {DATA} is missing")


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


def as_user_nobody(function, *args):
    """``function(*args)`` with file permissions in force: as is for a normal user; as root
    (who may read and write anything), in a forked child that became user nobody first. The
    result travels back as JSON."""
    if os.geteuid() != 0:
        return json.loads(json.dumps(function(*args)))
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        os.close(read_end)
        try:
            os.setgid(65534)
            os.setuid(65534)
            result = {"result": function(*args)}
        except BaseException as error:
            result = {"error": repr(error)}
        with os.fdopen(write_end, "w") as pipe:
            json.dump(result, pipe)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        answer = json.load(pipe)
    os.waitpid(pid, 0)
    assert "error" not in answer, answer.get("error")
    return answer["result"]


@pytest.fixture
def open_tmp():
    """A temporary folder user nobody can reach (pytest's own is private to its user)."""
    folder = Path(tempfile.mkdtemp())
    folder.chmod(0o755)
    yield folder
    for path in folder.rglob("*"):
        if path.is_dir():
            path.chmod(0o755)
    shutil.rmtree(folder)


def trust_schema(monkeypatch, make_schema):
    """Let searchkit open indexes built with ``make_schema()`` instead of its own schema (for
    tests comparing searchkit's fields with Whoosh's): it then admits that schema and the
    classes of its fields as its own."""
    from searchkit.index import safepickle, schema

    reference = make_schema()
    monkeypatch.setattr(schema, "_references", [schema.make_schema(), reference])
    for _name, field in reference.items():
        kind = type(field)
        monkeypatch.setitem(safepickle.allowed(), (kind.__module__, kind.__qualname__), kind)


def committed(index_dir, kind):
    """The current commit's settings, ledger, vocabulary or stems (``kind``), as bytes."""
    from searchkit.index import store

    return store.read_committed(index_dir, store.latest_generation(index_dir), kind)


def invoke(*args):
    """The command line run in this process on ``args`` (paths and numbers given as they are)."""
    from click.testing import CliRunner

    from searchkit.cli import main

    return CliRunner().invoke(main, [str(a) for a in args])


def reseal(index_dir):
    """Record the current commit's files as they are now: what a writer of other settings, or
    someone crafting an index, would have recorded (tests change files, then this)."""
    from searchkit.index import durable, integrity

    folder = str(index_dir)
    generation = durable.generations(folder)[-1]
    name = durable.record_file(generation)
    names = integrity.decode((Path(folder) / name).read_bytes(), generation).files
    files = {n: integrity.summarize(os.path.join(folder, n)) for n in names}
    (Path(folder) / name).write_bytes(integrity.encode(integrity.Record(generation, files)))


def without_positions(index_dir) -> None:
    """The index's ranking arrays as a version before their positions wrote them (resealed)."""
    import numpy as np
    from searchkit.index import rankarrays

    for path in Path(index_dir).glob("*" + rankarrays.EXTENSION):
        found = rankarrays.SegmentArrays(str(path))
        kept = {name: np.array(array) for name, array in found.arrays.items()
                if "position" not in name}
        del found
        path.write_bytes(b"".join(bytes(part) for part in rankarrays.encode(
            int(kept["date"].size), kept)))
    reseal(index_dir)
