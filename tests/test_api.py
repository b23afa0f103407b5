"""The public API: what ``import searchkit`` offers, to people and to type checkers."""

import ast
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SEEDS

import searchkit
from searchkit import model

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


# A program using the public API: a strict type checker must find these types in searchkit
# (not Any) and flag exactly the lines marked "wrong".
TYPED_PROGRAM = '''
from datetime import date
from pathlib import Path
from typing import Dict, Optional, Tuple

import searchkit
from searchkit import model


def first(index: Path) -> Tuple[str, Optional[date], int]:
    options = searchkit.SearchOptions(limit=3, bm25_k1=1.2)
    with searchkit.open_index(index, options) as searcher:
        filters = searchkit.Filters(since="2020-08", sources="AFP", kinds=("body",))
        results = searcher.search("Putin", filters=filters, facets=True)
        hit = results.hits[0]
        facets: Optional[searchkit.Facets] = results.facets
        places: Tuple[searchkit.Duplicate, ...] = results.groups[0].duplicates
        view: searchkit.ArticleView = searcher.show(hit.id)
        reprints: Dict[int, Tuple[searchkit.Duplicate, ...]] = searcher.reprints(view.id)
        groups: Tuple[searchkit.DuplicateGroup, ...] = searcher.duplicate_groups(limit=2)
        documents: Tuple[searchkit.DocumentHit, ...] = searcher.search_documents("Putin")
        stats: searchkit.IndexStats = searcher.stats()
        print(facets, places, reprints, groups, documents, stats.articles)
        return hit.id, model.replace(hit, rank=2).date, len(model.fields_of(searchkit.Hit))


def build(paths: Tuple[Path, ...]) -> int:
    def stage(label: str, total: int):  # type: ignore[no-untyped-def]
        return lambda done, total: None
    summary = searchkit.build_index(paths, "ix", options=searchkit.ReadOptions(source="X"),
                                    progress=stage, wait=1.5)
    merged = searchkit.optimize("ix", wait=0, progress=None)
    return summary.added + merged.segments_after + searchkit.check("ix").segments


def mistakes(searcher: searchkit.Searcher) -> None:
    with searchkit.open_index("ix") as opened:
        rank: str = opened.search("x").hits[0].rank  # wrong: an int
    searcher.search("x", limt=3)  # wrong: no such argument
    searcher.show(3)  # wrong: an id is a str
    searchkit.SearchOptions(bm25=1.0)  # wrong: no such option
    searchkit.Filters(sources=3)  # wrong: names
    hit = searcher.search("x").hits[0]
    hit.rank = 2  # wrong: read-only
    searchkit.build_index(["a"], "ix", wait="1")  # wrong: seconds are a number
'''


def test_a_type_checker_sees_the_public_types(tmp_path):
    """``mypy --strict`` on a program using the public API: every public name has the types a
    user needs, and a mistake is flagged where it is made (a name typed Any would flag none)."""
    program = tmp_path / "program.py"
    program.write_text(TYPED_PROGRAM, encoding="utf-8")
    # An editable install is found through an import hook mypy does not run: point it at the
    # source (an installed package is found in site-packages as it is).
    environment = dict(os.environ, MYPYPATH=str(PACKAGE.parent)) \
        if (PACKAGE.parent / "pyproject.toml").exists() else None
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
         "--no-incremental", "--cache-dir", os.devnull, "--hide-error-context",
         "--no-error-summary", program.name],
        cwd=tmp_path, capture_output=True, text=True, env=environment)
    flagged = sorted({int(line.split(":")[1]) for line in checked.stdout.splitlines()
                      if ": error:" in line})
    wrong = [number for number, line in enumerate(TYPED_PROGRAM.split("\n"), start=1)
             if "# wrong" in line]
    assert flagged == wrong, checked.stdout + checked.stderr


def test_a_searcher_left_open_across_updates_says_to_open_it_again(tmp_path, monkeypatch):
    """A Searcher reads the commit it opened; once newer commits have removed that commit's
    files (a long-running process), it says so rather than calling the index damaged."""
    from searchkit.index import durable

    index = tmp_path / "ix"
    seeds = sorted(SEEDS.iterdir())
    searchkit.build_index(seeds[:2], index)
    with searchkit.open_index(index) as searcher:
        assert searcher.search("Putin").total > 0 and searcher.is_current()
        monkeypatch.setattr(durable, "KEEP_SUPERSEDED_SECONDS", 0.0)  # as if hours went by
        for more in (3, 4):
            searchkit.build_index(seeds[:more], index)
        assert not searcher.is_current()
        with pytest.raises(searchkit.IndexChangedError, match="open it again"):
            searcher.stats()
        with pytest.raises(searchkit.IndexChangedError, match="open it again"):
            searcher.search("Vladimir Puti*")  # a wildcard: Whoosh's files, gone
    with searchkit.open_index(index) as reopened:
        assert reopened.is_current() and reopened.search("Putin").total > 0


def test_records_go_to_json_and_through_pickle(searcher):
    results = searcher.search("Merkel", limit=3, facets=True)
    dated = next(hit for hit in results.hits if hit.date is not None)
    assert model.to_dict(results)["groups"][0]["leader"]["date"] == results.hits[0].date
    for record in (results, searcher.show(dated.id), searcher.stats(),
                   searcher.duplicate_groups(limit=2)):
        assert pickle.loads(pickle.dumps(record)) == record
        text = json.dumps(model.jsonable(record))
        assert json.loads(text) == model.jsonable(record)
    leaders = [group["leader"] for group in json.loads(json.dumps(model.jsonable(results)))
               ["groups"]]
    assert {"id": dated.id, "date": dated.date.isoformat()} in [
        {"id": leader["id"], "date": leader["date"]} for leader in leaders]
    assert json.loads(json.dumps(model.jsonable(searcher.stats())))["last_date"] == \
        searcher.stats().last_date.isoformat()


def test_help_shows_what_each_public_name_takes():
    """``help()`` and ``inspect`` show a record's fields with their types and defaults (not
    ``*args, **kwargs``), and every public name and Searcher method says what it does."""
    import inspect
    import pydoc

    hit = inspect.signature(searchkit.Hit)
    assert tuple(hit.parameters) == model.fields_of(searchkit.Hit)
    assert hit.parameters["group"].default == "" and hit.parameters["rank"].annotation is int
    assert "SearchOptions(limit: int = 10," in pydoc.render_doc(
        searchkit.SearchOptions, renderer=pydoc.plaintext)
    since = inspect.signature(searchkit.Filters).parameters["since"]
    assert since.default is None and str in since.annotation.__args__
    searcher_methods = [m for n, m in vars(searchkit.Searcher).items()
                        if callable(m) and not n.startswith("_")]
    for public in [getattr(searchkit, name) for name in searchkit.__all__] + searcher_methods:
        assert inspect.getdoc(public), public
