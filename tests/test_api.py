"""The public API: what ``import searchkit`` offers, to people and to type checkers."""

import ast
import subprocess
import sys
from pathlib import Path

from conftest import SEEDS

import searchkit

PACKAGE = Path(searchkit.__file__).parent


def test_every_public_name_is_exported_and_resolves():
    from searchkit.ingest import corpus
    from searchkit.retrieval import plan, searcher

    for name in searchkit.__all__:
        assert getattr(searchkit, name) is not None, name
        assert name in dir(searchkit), name
    assert searchkit.Filters is plan.Filters
    assert searchkit.ReadOptions is corpus.ReadOptions
    assert searchkit.Searcher is searcher.Searcher
    assert {"check", "optimize", "ReadOptions", "Filters"} <= set(searchkit.__all__)


def test_type_checkers_see_the_lazy_names():
    """A name imported on first use is also imported under TYPE_CHECKING, so that type
    checkers (which do not run ``__getattr__``) know it; and the package says it is typed."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    typing_only = set()
    for node in tree.body:
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            typing_only |= {a.name for n in node.body for a in n.names}
    assert set(searchkit._LAZY) <= typing_only
    assert (PACKAGE / "py.typed").exists()
    pyproject = (PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8")
    assert '"py.typed"' in pyproject.partition("[tool.setuptools.package-data]")[2]


def test_importing_searchkit_is_cheap():
    code = ("import sys, searchkit; print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('numpy', 'whoosh', 'click', 'nltk') or m in ('searchkit.ingest.corpus', "
            "'searchkit.retrieval.searcher', 'searchkit.index.store')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_check_and_optimize_from_the_package(tmp_path):
    index = tmp_path / "ix"
    for name in sorted(p.name for p in SEEDS.iterdir())[:2]:  # two runs, two segments
        searchkit.build_index([SEEDS / name], index)
    report = searchkit.check(index)
    assert isinstance(report, searchkit.CheckReport) and report.ok and report.segments == 2
    done = searchkit.optimize(index, wait=0)
    assert isinstance(done, searchkit.OptimizeSummary) and done.merged
    assert done.segments_before == 2 and done.segments_after == 1
    assert searchkit.check(index).segments == 1
