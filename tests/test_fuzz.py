"""Random and grammar-shaped queries: each gets an answer or searchkit's own QueryError (exit
status 2 in the CLI), never another exception; and a search that runs out of time is stopped.

How many queries: multiples of the Hypothesis profile's max_examples (100 by default: 400
grammar-shaped, 300 random texts, 100 command lines; HYPOTHESIS_PROFILE=long for ten times as
many, see conftest). Run with -s to see how many were tried and the slowest one.
"""

import time

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import searchkit
from searchkit.cli.commands import main

EXAMPLES = settings().max_examples  # the profile's

WORDS = ["putin", "Merkel", "dialogue", "opposition", "Lukashenko", "Minsk", "a", "the", "x",
         "Tikhanovskaya", "1987", "2020-08", "AND", "OR", "NOT", "ANDNOT", "TO", "lukash"]
FIELDS = ["title", "source", "kind", "date", "text", "id", "nosuchfield", "dup_group"]
PATHOLOGICAL = ["> ", "<0", "a ANDNOT ANDNOT ", "date:[TO*]", "date:0000", "\ud800", "*", "a*",
                "*ka*", "word~2", "x" * 40_000, " OR ".join(["putin"] * 3000),
                "(" * 2000 + "a" + ")" * 2000, "date:[2020 TO 1990]", "title:", '"', "((", "-",
                "+", "-*", "?", "lu?", "date:[* TO *]", "kind:", ":", "\x00", "\\", "^2", "a^99",
                "[a TO z]", "[* TO *]", "dialogue ANDNOT putin AND putin NOT putin"]


def words():
    return st.one_of(
        st.sampled_from(WORDS),
        st.text(alphabet=st.characters(exclude_categories=()), min_size=1, max_size=12),
    )


def terms():
    word = words()
    return st.one_of(
        word,
        st.builds(lambda w: f'"{w}"', st.lists(word, max_size=4).map(" ".join)),
        st.builds(lambda f, w: f"{f}:{w}", st.sampled_from(FIELDS), word),
        st.builds(lambda w, c: w + c, word, st.sampled_from(["*", "?", "~", "~2", "^2"])),
        st.builds(lambda p, w: p + w, st.sampled_from(["-", "+", "*", "?"]), word),
        st.builds(lambda a, b: f"date:[{a} TO {b}]", st.sampled_from(["", "2020", "2020-08", "*"]),
                  st.sampled_from(["", "2020-08-31", "x", "*"])),
    )


grammar = st.recursive(
    terms(),
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=5).map(" ".join),
        st.builds(lambda a, op, b: f"{a} {op} {b}", inner,
                  st.sampled_from(["AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"]), inner),
        inner.map(lambda q: f"({q})"),
    ),
    max_leaves=12,
)

any_text = st.text(alphabet=st.characters(exclude_categories=()), max_size=300)

tried = []


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    if tried:
        slowest = max(tried)
        print(f"\nfuzz: {len(tried)} queries tried, failures: 0, slowest {slowest * 1000:.0f} ms")


def answer_or_query_error(searcher, text):
    started = time.perf_counter()
    try:
        searcher.search(text, limit=5)
    except searchkit.QueryError as error:
        assert str(error) and "\n" not in str(error)
    tried.append(time.perf_counter() - started)


@settings(max_examples=EXAMPLES * 4, suppress_health_check=list(HealthCheck))
@given(grammar)
def test_grammar_shaped_queries(searcher, text):
    answer_or_query_error(searcher, text)


@settings(max_examples=EXAMPLES * 3, suppress_health_check=list(HealthCheck))
@given(any_text)
def test_random_text_queries(searcher, text):
    answer_or_query_error(searcher, text)


@pytest.mark.parametrize("text", PATHOLOGICAL)
def test_known_troublemakers(searcher, text):
    answer_or_query_error(searcher, text)


@settings(max_examples=EXAMPLES, suppress_health_check=list(HealthCheck))
@given(st.one_of(grammar, any_text))
@example("> ")
@example("*")
@example("(" * 2000 + "a")
def test_cli_exits_0_or_2_with_one_line(seed_index, text):
    started = time.perf_counter()
    result = CliRunner().invoke(main, ["search", "--index", str(seed_index), "--format", "jsonl",
                                       "--", text])
    tried.append(time.perf_counter() - started)
    assert result.exit_code in (0, 2), (text[:80], result.exit_code, result.output[-500:])
    assert "Traceback" not in result.stderr
    if result.exit_code == 2:
        assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1


class _SlowClock:
    """A clock that moves on an hour each time it is read: the search's time limit is up at
    its first check, without waiting for it."""

    def __init__(self):
        self.now = 0.0

    def monotonic(self):
        self.now += 3600.0
        return self.now


def test_a_search_that_runs_out_of_time_is_stopped_with_a_query_error(searcher, monkeypatch):
    """What Whoosh matches for the engine (a wildcard, a phrase beside other syntax), and a
    phrase among plain words, is stopped at the time limit."""
    from searchkit.retrieval import plan

    monkeypatch.setattr(plan, "clock", _SlowClock())
    for query in ("renoun*", '"renounce violence" OR Minsk', 'Minsk "renounce violence"~3'):
        with pytest.raises(searchkit.QueryError, match=r"^the search took over \d+ s and was "
                                                       r"stopped; narrow the query$"):
            searcher.search(query, limit=5)
