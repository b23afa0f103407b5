"""The boundaries between searchkit's packages, one rule per folder, checked by parsing the
sources (and, for what a search loads, by running one)."""

import ast
import json
import re
import tokenize
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "searchkit"
TOP = {"__init__", "__main__", "config", "errors", "model"}  # the public surface, plain data
# What a search without query syntax runs on: none of it imports Whoosh, even lazily (stored
# fields are unpickled by safepickle's plain allow-list, which imports none either).
WHOOSH_FREE_SEARCH = {
    "retrieval/engine", "retrieval/plan", "retrieval/storedfields", "retrieval/snippets",
    "retrieval/typed", "retrieval/translit",
    "index/rankarrays", "index/wordterms", "index/layout", "index/integrity",
    "index/vocabulary", "model", "config", "errors",
}


def _name(path: Path) -> str:
    """A module's path inside the package, without ".py": "retrieval/engine"."""
    return path.relative_to(PACKAGE).with_suffix("").as_posix()


def modules(folder: str = "") -> dict:
    """name -> path of every module in ``folder`` of the package (all, by default)."""
    root = PACKAGE / folder if folder else PACKAGE
    return {_name(p): p for p in root.rglob("*.py")}


def imports(path: Path) -> set:
    """What a module imports, lazily or not: third-party roots ("whoosh") and searchkit's
    packages and modules as dotted names ("searchkit.index.store")."""
    here = ["searchkit"] + list(path.relative_to(PACKAGE).with_suffix("").parts[:-1])
    if path.name == "__init__.py":
        here = ["searchkit"] + list(path.relative_to(PACKAGE).parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
                found.add(module)
                found.update(f"{module}.{alias.name}" for alias in node.names)
            else:
                found.add(node.module)
    return {name.split(".")[0] if not name.startswith("searchkit") else name
            for name in found}


def importing(name: str, folder: str = "") -> set:
    """The modules of ``folder`` that import ``name`` (a library root, or a searchkit prefix)."""
    return {module for module, path in modules(folder).items()
            if any(i == name or i.startswith(name + ".") for i in imports(path))}


def test_ingest_imports_neither_whoosh_nor_click_nor_the_later_stages():
    for name in ("whoosh", "click", "tabulate", "searchkit.index", "searchkit.retrieval",
                 "searchkit.cli"):
        assert not importing(name, "ingest"), name


def test_index_imports_neither_click_nor_the_search_or_cli():
    for name in ("click", "tabulate", "searchkit.retrieval", "searchkit.cli"):
        assert not importing(name, "index"), name


def test_retrieval_imports_neither_click_nor_the_cli_nor_the_writers():
    for name in ("click", "tabulate", "searchkit.cli", "searchkit.index.build",
                 "searchkit.ingest.corpus"):
        assert not importing(name, "retrieval"), name


def test_whoosh_is_imported_only_under_index_and_retrieval():
    assert {m.split("/")[0] for m in importing("whoosh")} <= {"index", "retrieval"}


def test_click_and_tabulate_only_under_cli():
    for name in ("click", "tabulate"):
        assert {m.split("/")[0] for m in importing(name)} <= {"cli"}, name


def test_the_top_level_modules_import_no_library_of_a_stage():
    for name in ("whoosh", "click", "tabulate", "nltk", "numpy"):
        assert not importing(name) & TOP, name


def test_the_search_path_imports_no_whoosh():
    assert WHOOSH_FREE_SEARCH <= set(modules())
    assert not importing("whoosh") & WHOOSH_FREE_SEARCH


def test_nltk_is_only_in_the_stemmer():
    assert importing("nltk") == {"index/wordterms"}


def test_trafilatura_is_only_in_the_html_format():
    assert importing("trafilatura") == {"ingest/formats/html"}


def test_readers_import_their_libraries_lazily():
    """Answering a query needs none of them: they are imported inside the functions that read
    files, never at a module's top level."""
    for name, path in modules().items():
        top = ast.parse(path.read_text(encoding="utf-8")).body
        roots = set()
        for node in top:
            if isinstance(node, ast.Import):
                roots.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                roots.add(node.module.split(".")[0])
        assert not roots & {"trafilatura", "charset_normalizer", "yaml", "lxml"}, name


def test_reading_text_files_imports_no_reader_library():
    """Only the file that needs one pulls it in: a UTF-8 text file needs none of them."""
    import subprocess
    import sys

    code = (
        "import sys; from pathlib import Path; from searchkit.ingest.corpus import read_corpus; "
        f"read_corpus([Path({str(PACKAGE.parent / 'seeds')!r})]); "
        "print(sorted({'trafilatura', 'charset_normalizer', 'yaml'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# What answering a query without syntax from the command line must not import: Whoosh
# (~70 ms: the engine reads the ranking arrays), NLTK (~0.45 s; the index's stems.tsv stems
# the words of its corpus), tabulate (~0.1 s, only tables need it) and the writer side
# (indexer, reading files, near-duplicate grouping, the readers' libraries).
NOT_FOR_A_SEARCH = {
    "whoosh", "nltk", "tabulate", "searchkit.index.build", "searchkit.ingest.corpus",
    "searchkit.index.dedup",
    "searchkit.index.dupindex", "searchkit.index.bulkwrite", "searchkit.index.workers",
    "searchkit.ingest.blocks", "searchkit.ingest.metadata", "searchkit.ingest.formats.html",
    "searchkit.ingest.encoding", "trafilatura", "charset_normalizer", "yaml", "lxml",
}


def _modules_of_a_search(index_dir, *args):
    """The modules loaded by one `searchkit search` process, and what it printed."""
    import json
    import subprocess
    import sys

    code = (
        "import json, sys\n"
        "from searchkit.cli.commands import main\n"
        "try:\n"
        "    main(sys.argv[1:], prog_name='searchkit')\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write('\\nMODULES ' + json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, "search", *args, "--index", str(index_dir)],
        capture_output=True, text=True, check=True,
    )
    modules = set(json.loads(out.stderr.rpartition("MODULES ")[2]))
    return modules, out.stdout


def _loaded(names, modules) -> set:
    return {m for m in names if m in modules or any(n.startswith(m + ".") for n in modules)}


def test_a_search_imports_only_what_it_needs(seed_index):
    import subprocess
    import sys

    # What NLTK's stemmer brings along depends on what else is installed (with numpy present
    # it loads charset_normalizer, for one): only searchkit's own imports are checked here.
    listed = ("import json, sys; from searchkit.index import wordterms; "
              "wordterms._english_stemmer(); print(json.dumps(sorted(sys.modules)))")
    with_nltk = _loaded(NOT_FOR_A_SEARCH, set(json.loads(subprocess.run(
        [sys.executable, "-c", listed], capture_output=True, text=True, check=True).stdout)))
    for args, allowed in (
        (["renounce violence", "--format", "plain"], set()),
        (["Tikhanovskaya", "--format", "jsonl"], set()),  # a name: the vocabulary is read
        (["Merkle", "--format", "json"], with_nltk),  # no such word in the corpus: NLTK stems it
    ):
        modules, stdout = _modules_of_a_search(seed_index, *args)
        assert stdout.strip(), args
        assert "searchkit.retrieval.engine" in modules and "searchkit.retrieval.searcher" in modules
        assert _loaded(NOT_FOR_A_SEARCH, modules) == allowed, args
    assert "nltk" in with_nltk and "whoosh" not in with_nltk
    # A quoted phrase among plain words is read and matched without Whoosh; other query
    # syntax is read by Whoosh's parser.
    modules, stdout = _modules_of_a_search(seed_index, '"renounce violence" Minsk', "--format",
                                           "plain")
    assert stdout.strip() and "whoosh" not in modules
    modules, stdout = _modules_of_a_search(seed_index, "renounce OR violence", "--format",
                                           "plain")
    assert stdout.strip() and "whoosh.qparser" in modules


def test_a_table_imports_tabulate(seed_index):
    modules, stdout = _modules_of_a_search(seed_index, "renounce violence", "--format", "table")
    assert "tabulate" in modules and stdout.strip()


def test_the_searcher_names_stored_fields_by_their_constants():
    """Stored-field names are the schema's (layout.py names each one): the searcher reads
    a document's stored fields through those names, never retyped string literals."""
    from searchkit.index import layout
    from searchkit.index.schema import make_schema

    named = {value for name, value in vars(layout).items() if name.endswith("_FIELD")}
    assert named == set(make_schema().names())
    tree = ast.parse((PACKAGE / "retrieval" / "searcher.py").read_text(encoding="utf-8"))
    spelled = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and not (
                isinstance(node.value, ast.Name) and node.value.id == "arrays"):  # rank arrays
            key = node.slice
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "get" and node.args):
            key = node.args[0]
        else:
            continue
        if isinstance(key, ast.Constant) and key.value in named:
            spelled.append((node.lineno, key.value))
    assert spelled == []


TIMED = re.compile(r"\d(?:[\d.,]*\d)?(?:-\d[\d.,]*)? ?(?:ms|s|µs)\b|\b(?:as before)\b")
# index/build.py's note on parallel writing keeps its timings until that writer is reworked.
TIMINGS_LEFT = {"index/build"}


def test_code_comments_hold_no_timings():
    """A comment says why in a line; what was measured goes to bench/README.md."""
    found = []
    for name, path in sorted(modules().items()):
        if name in TIMINGS_LEFT:
            continue
        with path.open(encoding="utf-8") as source:
            for token in tokenize.generate_tokens(source.readline):
                if token.type == tokenize.COMMENT and TIMED.search(token.string):
                    found.append(f"{path.name}:{token.start[0]}: {token.string}")
    assert not found, "\n".join(found)


MAX_FUNCTION_LINES = 60
# Long ones with a reason: the build's steps in order, waiting for the indexer's split; and the
# bulk writer's, which follow Whoosh's own writer block by block to write the same bytes.
LONG_LEFT = {"index/build.build_index", "index/build._plan", "index/bulkwrite._text_postings",
             "index/bulkwrite._write_postings", "index/bulkwrite.write_segment"}


def test_functions_fit_on_a_screen():
    long = []
    for name, path in sorted(modules().items()):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES and f"{name}.{node.name}" not in LONG_LEFT:
                    long.append(f"{name}.{node.name}: {lines} lines")
    assert not long, long


# The web page (`searchkit serve`) is one more client of the library: its public API (the names
# of searchkit.__all__), the records and printable text of cli/render, never Whoosh, numpy or
# the index's internals; and only the `serve` command imports it.
WEB_MAY_USE = ("searchkit.config", "searchkit.errors", "searchkit.model", "searchkit.cli.render",
               "searchkit.web")


def test_web_uses_only_the_public_api_and_render():
    import searchkit

    public = {f"searchkit.{name}" for name in searchkit.__all__} | {"searchkit", "searchkit.cli"}
    for name, path in modules("web").items():
        for imported in imports(path):
            if not imported.startswith("searchkit"):
                assert imported not in ("whoosh", "numpy", "click", "tabulate", "nltk"), name
                continue
            assert imported in public or any(
                imported == allowed or imported.startswith(allowed + ".")
                for allowed in WEB_MAY_USE), f"{name} imports {imported}"
    assert importing("searchkit.web") - set(modules("web")) == {"cli/commands"}
