"""Pasted text is searched as text: query syntax only where it is deliberate and valid, the rest
read as words with a note, never refused or silently empty (issue 17's examples)."""

import csv
import json
import os
import random
import re
import subprocess
import sys

import pytest
from conftest import DATA, invoke, needs_data
from samples import write_stories

import searchkit
from searchkit.cli import repl
from searchkit.config import MAX_QUERY_CHARS
from searchkit.retrieval import plan

ARTICLES = {
    "terror.txt": ("The war on terror",
                   ["The so-called 'war on terror' began after the attacks of 9/11, officials "
                    "said, as AT&T and other carriers handed over call records.",
                    "Programmers who write C++ were asked to audit the systems; one in five "
                    "audits found a flaw, a rise of +1 on the year."]),
    "minister.txt": ("Cabinet",
                     ["The minister, who resigned on Friday, said he had been misled by "
                      "officials about the contracts.",
                      "Another minister said the contracts were sound and who signed them did "
                      "not matter."]),
    "science.txt": ("Chromatin",
                    ["The +1 nucleosomes sit just downstream of the transcription start site.",
                     "CD4+ T cell counts fell in the treated group.",
                     "A transverse section of the spinal cord was stained.",
                     "FACT evicts the Histone 2A (H2A)-histone 2B dimer during exchange."]),
    "other.txt": ("Weather", ["Rain fell on the capital on Friday, and the minister stayed in."]),
    "business.txt": ("Deals",
                     ["The U.S. firm paid £5m for an e-mail service run by AT&T staff.",
                      "Trains ran every 11 minutes on 12/05/2020, and 9 of them were late.",
                      "The email service of the firm was sold on."]),
}


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    root = tmp_path_factory.mktemp("pasted")
    folder = root / "corpus"
    write_stories(folder, ARTICLES)
    searchkit.build_index([folder], root / "ix")
    return root / "ix"


@pytest.fixture(scope="module")
def searcher(index):
    with searchkit.open_index(index) as opened:
        yield opened


def first_text(results) -> str:
    return results.hits[0].text


def test_the_issues_mixed_query_finds_its_paragraph_with_a_note(searcher):
    query = "the so-called 'war on terror' C++ AT&T 9/11 +1 -5"
    results = searcher.search(query)
    assert first_text(results).startswith("The so-called 'war on terror'")
    assert results.notes[0].startswith("read as text, not as query syntax: +1, -5")
    plain = searcher.search(query, syntax=False)
    assert [h.id for h in plain.hits] == [h.id for h in results.hits]
    assert not any(n.startswith("read as text") for n in plain.notes)


@pytest.mark.parametrize("query, found, taken", [
    ("?transverse", "A transverse section", "?transverse"),
    ("Who resigned on Friday?", "The minister, who resigned", "Friday?"),
    ("the minister - who resigned", "The minister, who resigned", "-"),
    ("+1 nucleosomes", "The +1 nucleosomes", "+1"),
    ("CD4 + T cell", "CD4+ T cell counts", "+"),
    ("stained (spinal", "A transverse section", "("),
    ('he said "misled', "The minister, who resigned", '"'),
    ("*ka* transverse", "A transverse section", "*ka*"),
])
def test_what_is_no_valid_syntax_is_searched_as_text(searcher, query, found, taken):
    results = searcher.search(query)
    assert first_text(results).startswith(found)
    assert results.notes[0].startswith(f"read as text, not as query syntax: {taken}")


def test_a_question_mark_ends_a_word_and_a_wildcard_inside_one_still_works(searcher):
    asked = searcher.search("Who resigned on Friday?")
    assert {h.id for h in asked.hits} == {h.id for h in searcher.search("Who resigned on Friday")
                                          .hits}
    assert first_text(searcher.search("trans?erse")).startswith("A transverse section")
    assert first_text(searcher.search("nucleo*")).startswith("The +1 nucleosomes")


def test_deliberate_syntax_still_works(searcher):
    without = searcher.search("minister -resigned")
    assert without.total and all("resigned" not in h.text for h in without.hits)
    assert not without.notes
    assert searcher.search('"the minister stayed"').total == 1
    assert searcher.search("contracts AND Friday").total == 1


def test_plain_reads_every_character_as_text(searcher):
    assert searcher.search("minister -resigned", syntax=False).total == 3
    assert searcher.search('"minister stayed"', syntax=False).total == 3
    assert searcher.search("contracts AND Friday", syntax=False).total == 3


def test_a_dash_glued_to_a_word_is_no_exclusion_once_a_bracket_is_blanked(searcher):
    """Found in SciFact's queries: "(H2A)-histone" read as text excluded "histone"."""
    query = "FACT compensates for Histone 2A (H2A)-histone 2B (H2B) dimer eviction"
    for syntax in (False, True):
        assert first_text(searcher.search(query, syntax=syntax)).startswith("FACT evicts")
    unbalanced = searcher.search("FACT H2A)-histone eviction")
    assert first_text(unbalanced).startswith("FACT evicts")
    assert unbalanced.notes[0] == "read as text, not as query syntax: ), -"


def test_the_command_line_says_what_it_read_as_text_on_stderr(index):
    result = invoke("search", "--index", index, "--format", "jsonl", "--", "+1 nucleosomes")
    assert result.exit_code == 0, result.output
    assert ("note: read as text, not as query syntax: +1 (--plain reads all of a query as "
            "text)") in result.stderr
    assert json.loads(result.stdout.splitlines()[0])["text"].startswith("The +1 nucleosomes")
    plain = invoke("search", "--index", index, "--plain", "--", "minister -resigned")
    assert plain.exit_code == 0 and "3 matching paragraphs" in plain.stderr, plain.stderr


def test_batch_queries_are_plain_text_unless_syntax(index, tmp_path):
    queries = tmp_path / "q.tsv"
    queries.write_text("1\t+1 nucleosomes\n2\tresigned -minister\n3\t?transverse\n")
    plain = invoke("search", "--batch", queries, "--index", index, "--format", "jsonl")
    assert plain.exit_code == 0, plain.stderr
    found = [json.loads(line) for line in plain.stdout.splitlines()]
    assert [len(f["results"]) for f in found] == [1, 2, 1]
    assert "found nothing" not in plain.stderr and "could not" not in plain.stderr
    syntax = invoke("search", "--batch", queries, "--index", index, "--format", "jsonl",
                    "--syntax")
    assert [len(json.loads(line)["results"]) for line in syntax.stdout.splitlines()] == [1, 0, 1]


def test_the_repl_turns_syntax_off_and_on(index):
    transcript = []
    lines = iter([":plain on", "minister -resigned", ":plain off", "minister -resigned",
                  "resigned?"])

    def read(prompt):
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    repl.run(read, transcript.append, index, banner=False)
    counts = [t for t in transcript if " of " in t and "paragraph" in t]
    assert transcript[0].startswith("plain on")
    assert "note: read as text, not as query syntax: resigned? (:plain on reads all of a " \
        "search as text)" in transcript
    assert counts[0].endswith("3 paragraphs") or "of 3 " in counts[0], counts
    assert "of 3 " not in counts[1], counts


# -- words with punctuation --------------------------------------------------------------------


@pytest.mark.parametrize("query, found", [
    ("AT&T", ["The so-called", "The U.S. firm"]),
    ("C++", ["Programmers who write C++"]),
    ("9/11", ["The so-called"]),
    ('"9/11"', ["The so-called"]),
    ("U.S.", ["The U.S. firm"]),
    ("£5m", ["The U.S. firm"]),
])
def test_words_with_punctuation_are_found_as_written(searcher, query, found):
    results = searcher.search(query)
    assert sorted(h.text[:len(f)] for h, f in zip(results.hits, sorted(found))) == sorted(found)
    assert results.total == len(found)


@pytest.mark.parametrize("query", ["AT&T", "C++", "9/11"])
def test_a_word_with_punctuation_is_marked_whole_in_snippets(searcher, query):
    for hit in searcher.search(query).hits:
        snippet = hit.snippet
        assert {snippet.text[a:b] for a, b in snippet.highlights} == {query}


def test_parts_of_a_hyphenated_word_and_of_a_long_date_are_words(searcher):
    assert searcher.search("mail").hits[0].text.startswith("The U.S. firm")
    assert searcher.search("e-mail").hits[0].text.startswith("The U.S. firm")
    assert searcher.search("2020").hits[0].text.startswith("Trains ran every 11")
    assert searcher.search("11 minutes").total == 1  # "9/11" is one word, not "11"


def test_syntax_without_batch_and_plain_with_batch_do_nothing_and_say_so(index, tmp_path):
    alone = invoke("search", "--index", index, "--syntax", "minister")
    assert alone.exit_code == 0 and "note: --syntax does nothing without --batch" in alone.stderr
    queries = tmp_path / "q.tsv"
    queries.write_text("1\tminister\n")
    batch = invoke("search", "--batch", queries, "--index", index, "--plain")
    assert batch.exit_code == 0 and "note: --plain does nothing with --batch" in batch.stderr


# -- real evaluation queries -------------------------------------------------------------------

SCIFACT = DATA / "scifact"
SYNTAX_LOOKING = re.compile(r"""(?:^|\s)[+-]|\s[+-]\s|\?|["'()*:]""")


@needs_data("scifact")
def test_scifact_queries_that_look_like_syntax_are_never_refused_or_empty(tmp_path):
    """Every SciFact query holding +, -, ?, quotes, parentheses, * or : (`+1 nucleosomes`,
    `CD4 + T cell`, `?transverse`), against the judged abstracts of those with train
    judgments and 300 others: each finds documents, read as plain text and with --syntax
    alike, and a judged one comes first for most."""
    queries = {}
    with open(SCIFACT / "queries.jsonl", encoding="utf-8") as records:
        for line in records:
            record = json.loads(line)
            if SYNTAX_LOOKING.search(record["text"]):
                queries[record["_id"]] = line
    qrels = {}  # the train judgments (the only ones there)
    with open(SCIFACT / "qrels" / "train.tsv", encoding="utf-8") as rows:
        for row in csv.DictReader(rows, delimiter="\t"):
            if row["query-id"] in queries:
                qrels.setdefault(row["query-id"], set()).add(row["corpus-id"])
    assert len(queries) > 30 and len(qrels) > 10
    wanted = set().union(*qrels.values())
    lines = (SCIFACT / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    chosen = [line for line in lines if json.loads(line)["_id"] in wanted]
    others = [line for line in lines if json.loads(line)["_id"] not in wanted]
    random.Random(0).shuffle(others)
    (tmp_path / "slice.jsonl").write_text("\n".join(chosen + others[:300]) + "\n")
    (tmp_path / "q.jsonl").write_text("".join(queries.values()))
    assert invoke("index", tmp_path / "slice.jsonl", "--index", tmp_path / "ix", "-q"
                  ).exit_code == 0
    for how in ((), ("--syntax",)):
        result = invoke("search", "--batch", tmp_path / "q.jsonl", "--index", tmp_path / "ix",
                        "--format", "jsonl", *how)
        assert result.exit_code == 0, result.stderr
        assert "could not be run" not in result.stderr and "found nothing" not in result.stderr
        ranked = {r["qid"]: [h["doc_id"] for h in r["results"]]
                  for r in map(json.loads, result.stdout.splitlines())}
        assert set(ranked) == set(queries) and all(ranked.values())
        first = [q for q in qrels if ranked[q][0] in qrels[q]]
        assert len(first) >= 0.6 * len(qrels), (how, len(first), len(qrels))


# -- text as it is copied: from a PDF, an e-mail, a web page -------------------------------------

COPIED = {
    "harbour.txt": ("Harbour winter",
                    ['"It was a hard winter - harder than any we have known," the harbour master '
                     "said, and the boats stayed in until March.",
                     "The dockers signed a settlement with the port authority after long-term "
                     "contracts were promised to every crew."]),
    "union.txt": ("Port talks will not delay strike",
                  ["The union said the talks would not delay the strike planned for Monday, and "
                   "pickets would stand at every gate."]),
    "ferry.txt": ("Ferry service",
                  ["The ferry service will not run on Sunday; the delay was blamed on the "
                   "weather."]),
    "report.txt": ("Report on the northern ports",
                   ["Inspectors who visited eleven northern ports over the autumn found cracked "
                    "quays, rusting cranes, flooded warehouses and ladders missing from the lower "
                    "berths, and they warned that several harbours could close within three "
                    "winters unless owners repaired them.",
                    "Their report, published on Thursday, asks the ministry for emergency grants, "
                    "tighter inspection rules, training for young welders, better lighting on "
                    "night shifts and a register of every vessel moored longer than six months; "
                    "fishermen, ferry operators and yacht clubs broadly welcomed its tone."]),
}


@pytest.fixture(scope="module")
def copied(tmp_path_factory):
    root = tmp_path_factory.mktemp("copied")
    write_stories(root / "corpus", COPIED)
    searchkit.build_index([root / "corpus"], root / "ix")
    with searchkit.open_index(root / "ix") as opened:
        yield opened


def test_a_quotation_broken_across_lines_is_still_a_phrase(copied):
    """A line break inside a pasted quotation: its dash stays text, excluding nothing."""
    for query in ('"It was a hard winter - harder than any we\nhave known," the harbour master',
                  '> "It was a hard winter - harder than any we have\n> known," the harbour '
                  "master said"):
        results = copied.search(query)
        assert first_text(results).startswith('"It was a hard winter'), query
        assert copied.search(query.replace("\n", " ")).hits[0].id == results.hits[0].id


@pytest.mark.parametrize("query", [
    "signed a settle-\nment with the port",
    "> The dockers signed a settle-\n> ment with the port",
    "signed a settle\u00adment with the\u00a0port",  # a soft hyphen, a non-breaking space
])
def test_a_word_hyphenated_at_a_line_end_is_joined(copied, query):
    results = copied.search(query)
    assert first_text(results).startswith("The dockers signed")
    snippet = results.hits[0].snippet
    assert "settlement" in {snippet.text[a:b] for a, b in snippet.highlights}


def test_words_an_invisible_character_parts_stay_apart_unless_the_index_joins_them(copied):
    """The index splits words at a soft hyphen or a zero-width space: "port\u00adauthority"
    is the words port and authority ("portauthority" is no word of the index)."""
    for query in ("the port\u00adauthority", "the port\u200bauthority"):
        assert first_text(copied.search(query)).startswith("The dockers signed"), query


def test_a_compound_hyphenated_at_a_line_end_keeps_its_hyphen(copied):
    """"longterm" is no word of the index: "long-\\nterm" is long-term."""
    results = copied.search("long-\nterm contracts")
    snippet = results.hits[0].snippet
    assert {"long", "term"} <= {snippet.text[a:b] for a, b in snippet.highlights}


def test_a_headline_in_capitals_above_the_text_obeys_no_operator(copied):
    results = copied.search("PORT TALKS WILL NOT DELAY STRIKE\nThe union said the talks would "
                            "not delay the strike")
    assert first_text(results).startswith("The union said")
    assert not results.notes
    typed = copied.search("ferry NOT delay")  # typed, NOT still excludes
    assert typed.total and all("delay" not in h.text for h in typed.hits)
    # two words side by side on each side of the NOT: a headline still
    short = copied.search("TALKS WILL NOT DELAY STRIKE")
    assert first_text(short).startswith("The union said") and not short.notes
    # words in capitals joined by operators are no headline: the operators hold
    joined = copied.search("strike AND (FERRY OR UNION OR PORT)")
    assert joined.total and all("strike" in h.text for h in joined.hits)


def test_a_web_address_beside_the_text_is_no_overlong_word(copied):
    address = ("https://news.example.com/ports/harbour-winter-4271536?utm_source=social"
               "&utm_medium=share&utm_campaign=winter_ports&ref=front_page_top_story")
    assert len(address) > plan.MAX_WORD_CHARS
    results = copied.search("the harbour master said, and the boats stayed in\n" + address)
    assert first_text(results).startswith('"It was a hard winter')


def test_a_pasted_story_of_many_words_searches_its_rarest(copied):
    """Over MAX_CLAUSES different words (quotes and dashes too): read as text, searched for
    the rarest of them, never refused."""
    story = "\n\n".join(COPIED["report.txt"][1])
    words = "Inspectors \"who visited - eleven\" ports " + story
    assert plan.distinct_terms(words) > plan.MAX_CLAUSES
    for query in (story, words, story.upper()):
        results = copied.search(query)
        assert first_text(results).startswith(("Inspectors who", "Their report"))
        assert results.notes == (f"a long text: searched for its {plan.MAX_CLAUSES} rarest "
                                 f"words of {plan.distinct_terms(story)}",)
    result = invoke("search", "--index", copied.index_dir, "--format", "jsonl", "--", story)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.splitlines()[0])["text"].startswith(("Inspectors who",
                                                                        "Their report"))
    assert "note: a long text: searched for its" in result.stderr


def test_the_command_line_reads_the_text_from_standard_input_after_a_dash(copied):
    """`searchkit search -`: text as it was copied (quotes of both kinds, line breaks) without
    a shell's quoting."""
    from click.testing import CliRunner

    from searchkit.cli import main

    pasted = '> "It was a hard winter - harder than any\n> we have known," the harbour master\n'
    result = CliRunner().invoke(main, ["search", "--index", str(copied.index_dir), "--format",
                                       "jsonl", "-"], input=pasted.encode("utf-8"))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.splitlines()[0])["text"].startswith('"It was a hard winter')
    too_long = CliRunner().invoke(main, ["search", "--index", str(copied.index_dir), "-"],
                                  input=b"harbour " * 3000)
    assert too_long.exit_code == 2
    assert "the text on standard input is over 5000 characters long" in too_long.stderr


def test_standard_input_closed_or_ending_in_a_line_break(copied):
    """A paste of the most characters, with the line break Ctrl-D asks for after it, is
    searched; a closed standard input is one line, not a traceback."""
    exact = ("harbour " * (MAX_QUERY_CHARS // 8 + 1))[:MAX_QUERY_CHARS - 1] + "r"
    found = subprocess.run([sys.executable, "-m", "searchkit", "search", "--index",
                            str(copied.index_dir), "-"], input=(exact + "\n").encode(),
                           capture_output=True)
    assert found.returncode == 0, found.stderr
    closed = subprocess.run([sys.executable, "-m", "searchkit", "search", "--index",
                             str(copied.index_dir), "-"], stdin=subprocess.DEVNULL,
                            capture_output=True, preexec_fn=lambda: os.close(0))
    assert closed.stderr.decode().strip().splitlines()[-1] == (
        "Error: cannot read the query from standard input: it is closed")
    assert b"Traceback" not in closed.stderr
