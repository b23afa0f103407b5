"""The module boundaries that keep searchkit changeable, checked by parsing the sources."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "searchkit"

WHOOSH_MODULES = {
    "schema", "analysis", "store", "durable", "indexer", "searcher", "highlight", "query",
}
CLICK_MODULES = {"cli", "repl"}


def imported_roots(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module.split(".")[0]


def modules_importing(package):
    return {p.stem for p in PACKAGE.glob("*.py") if package in set(imported_roots(p))}


def test_only_the_engine_modules_import_whoosh():
    assert modules_importing("whoosh") <= WHOOSH_MODULES
    assert "searcher" in modules_importing("whoosh")


def test_only_the_front_ends_import_click():
    assert modules_importing("click") <= CLICK_MODULES


def test_nltk_is_only_in_the_analyzer():
    assert modules_importing("nltk") == {"analysis"}
