"""The module boundaries that keep searchkit changeable, checked by parsing the sources."""

import ast
import json
import re
import tokenize
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "searchkit"

WHOOSH_MODULES = {
    "schema", "analysis", "textfield", "codec", "bulkwrite", "store", "durable", "indexer",
    "searcher", "query", "safepickle",
}
# What a search without query syntax runs on: none of it imports Whoosh, even lazily (stored
# fields are unpickled by safepickle's plain allow-list, which imports none either).
WHOOSH_FREE_SEARCH = {
    "engine", "plan", "rankarrays", "storedfields", "wordterms", "indexformat", "integrity",
    "highlight", "vocabulary", "model", "config", "errors",
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


def test_the_search_path_imports_no_whoosh():
    assert not modules_importing("whoosh") & WHOOSH_FREE_SEARCH
    assert WHOOSH_FREE_SEARCH <= {p.stem for p in PACKAGE.glob("*.py")}


def test_only_the_front_ends_import_click():
    assert modules_importing("click") <= CLICK_MODULES


def test_nltk_is_only_in_the_stemmer():
    assert modules_importing("nltk") == {"wordterms"}


def test_trafilatura_is_only_in_the_html_module():
    assert modules_importing("trafilatura") == {"htmlpage"}


def test_readers_import_their_libraries_lazily():
    """Answering a query needs none of them: they are imported inside the functions that read
    files (trafilatura costs ~0.2 s), never at a module's top level."""
    for module in PACKAGE.glob("*.py"):
        top = ast.parse(module.read_text(encoding="utf-8")).body
        roots = set()
        for node in top:
            if isinstance(node, ast.Import):
                roots.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                roots.add(node.module.split(".")[0])
        assert not roots & {"trafilatura", "charset_normalizer", "yaml", "lxml"}, module.name


def test_reading_text_files_imports_no_reader_library():
    """Only the file that needs one pulls it in: a UTF-8 text file needs none of them."""
    import subprocess
    import sys

    code = (
        "import sys; from pathlib import Path; from searchkit.corpus import read_corpus; "
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
    "whoosh", "nltk", "tabulate", "searchkit.indexer", "searchkit.corpus", "searchkit.dedup",
    "searchkit.dupindex", "searchkit.bulkwrite", "searchkit.workers",
    "searchkit.blocks", "searchkit.metadata", "searchkit.htmlpage",
    "searchkit.encoding", "trafilatura", "charset_normalizer", "yaml", "lxml",
}


def _modules_of_a_search(index_dir, *args):
    """The modules loaded by one `searchkit search` process, and what it printed."""
    import json
    import subprocess
    import sys

    code = (
        "import json, sys\n"
        "from searchkit.cli import main\n"
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
    listed = "import json, sys, nltk.stem.snowball; print(json.dumps(sorted(sys.modules)))"
    with_nltk = _loaded(NOT_FOR_A_SEARCH, set(json.loads(subprocess.run(
        [sys.executable, "-c", listed], capture_output=True, text=True, check=True).stdout)))
    for args, allowed in (
        (["renounce violence", "--format", "plain"], set()),
        (["Tikhanovskaya", "--format", "jsonl"], set()),  # a name: the vocabulary is read
        (["Merkle", "--format", "json"], with_nltk),  # no such word in the corpus: NLTK stems it
    ):
        modules, stdout = _modules_of_a_search(seed_index, *args)
        assert stdout.strip(), args
        assert "searchkit.engine" in modules and "searchkit.searcher" in modules
        assert _loaded(NOT_FOR_A_SEARCH, modules) == allowed, args
    assert "nltk" in with_nltk and "whoosh" not in with_nltk
    # Query syntax (a phrase) is read by Whoosh's parser and matched by its positions.
    modules, stdout = _modules_of_a_search(seed_index, '"renounce violence"', "--format", "plain")
    assert stdout.strip() and "whoosh.qparser" in modules


def test_a_table_imports_tabulate(seed_index):
    modules, stdout = _modules_of_a_search(seed_index, "renounce violence", "--format", "table")
    assert "tabulate" in modules and stdout.strip()


def test_the_searcher_names_stored_fields_by_their_constants():
    """Stored-field names are the schema's (indexformat.py names each one): the searcher reads
    a document's stored fields through those names, never retyped string literals."""
    from searchkit import indexformat
    from searchkit.schema import make_schema

    named = {value for name, value in vars(indexformat).items() if name.endswith("_FIELD")}
    assert named == set(make_schema().names())
    tree = ast.parse((PACKAGE / "searcher.py").read_text(encoding="utf-8"))
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
# indexer.py's note on parallel writing keeps its timings until that writer is reworked.
TIMINGS_LEFT = {"indexer"}


def test_code_comments_hold_no_timings():
    """A comment says why in a line; what was measured goes to bench/README.md."""
    found = []
    for path in sorted(PACKAGE.glob("*.py")):
        if path.stem in TIMINGS_LEFT:
            continue
        with path.open(encoding="utf-8") as source:
            for token in tokenize.generate_tokens(source.readline):
                if token.type == tokenize.COMMENT and TIMED.search(token.string):
                    found.append(f"{path.name}:{token.start[0]}: {token.string}")
    assert not found, "\n".join(found)


MAX_FUNCTION_LINES = 60
# Long ones with a reason: the build's steps in order, waiting for the indexer's split; and the
# bulk writer's, which follow Whoosh's own writer block by block to write the same bytes.
LONG_LEFT = {"indexer.build_index", "indexer._plan", "bulkwrite._text_postings",
             "bulkwrite._write_postings", "bulkwrite.write_segment"}


def test_functions_fit_on_a_screen():
    long = []
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES and f"{path.stem}.{node.name}" not in LONG_LEFT:
                    long.append(f"{path.stem}.{node.name}: {lines} lines")
    assert not long, long
