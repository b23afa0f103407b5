"""A corpus without metadata, as most users have: no source is unknown (never the file's
name), `index --source` names one, long source lists are cut, files of other types and markup
are named, and indexing shows its steps."""

import json
import os
import pty
import subprocess
import sys

import pytest
from conftest import invoke as run

import searchkit
from searchkit.index import build


def write_bare(folder, count, start=0):
    """``count`` articles with no source anywhere: a headline and two paragraphs each, in
    folders like BBC's (business/001.txt, sport/001.txt)."""
    for n in range(start, start + count):
        path = folder / ("business" if n % 2 else "sport") / f"{n:03d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"Headline number {n}\n\nThe harbour report {n} counts {n * 7} ships "
                        f"in port today.\n\nTrade figure {n} rose by {n + 3} per cent.\n",
                        encoding="utf-8")


def test_no_source_is_unknown_not_the_file_name(tmp_path):
    write_bare(tmp_path / "corpus", 4)
    index = tmp_path / "ix"
    assert run("index", tmp_path / "corpus", "--index", index).exit_code == 0
    found = run("search", "harbour", "--index", index, "--format", "jsonl")
    records = [json.loads(line) for line in found.stdout.splitlines()]
    assert len(records) == 4
    assert {(r["source"], r["source_from"]) for r in records} == {(None, "unknown")}
    plain = run("search", "harbour", "--index", index, "-n", "1").stdout.splitlines()
    assert plain[1].startswith("   — · — · ")
    stats = json.loads(run("stats", "--index", index, "--format", "json").stdout)
    assert (stats["sources"], stats["unknown_source_articles"]) == ({}, 4)
    table = run("stats", "--index", index).stdout
    assert "001" not in table.split("source")[-1]  # no file names as sources
    assert table.splitlines()[-1].split() == ["—", "4"]


def test_index_source_names_the_files_that_state_none(tmp_path):
    corpus = tmp_path / "corpus"
    write_bare(corpus, 2)
    (corpus / "wire.txt").write_text(
        "Wire story\n\nOriginal url: https://news.example.com/2020/08/18/wire\n\n"
        "The wire paragraph about the harbour.\n", encoding="utf-8")
    (corpus / "listed.txt").write_text("Listed story\n\nThe listed harbour paragraph.\n",
                                       encoding="utf-8")
    (corpus / "manifest.json").write_text(json.dumps({"listed.txt": {"source": "Gazette"}}))
    index = tmp_path / "ix"
    result = run("index", corpus, "--index", index, "--source", "Harbour Weekly")
    assert result.exit_code == 0, result.stderr
    found = run("search", "harbour", "--index", index, "--format", "jsonl", "-n", "10")
    by_article = {r["article_id"]: (r["source"], r["source_from"])
                  for r in map(json.loads, found.stdout.splitlines())}
    assert by_article == {
        "sport/000": ("Harbour Weekly", "option"), "business/001": ("Harbour Weekly", "option"),
        "wire": ("news.example.com", "url"), "listed": ("Gazette", "manifest")}
    narrowed = run("search", "harbour", "--index", index, "--source", "harbour weekly",
                   "--format", "jsonl")
    assert len(narrowed.stdout.splitlines()) == 2
    again = run("index", corpus, "--index", index)  # without it: read again, unknown again
    assert "files: 0 added, 4 updated" in again.stderr
    stats = searchkit.open_index(index).stats()
    assert (stats.sources, stats.unknown_source) == ({"news.example.com": 1, "Gazette": 1}, 2)


def test_a_segment_of_articles_without_sources_reads_well(tmp_path):
    """An update whose files name no source writes a segment of such paragraphs; searches,
    facets and stats read it with the rest."""
    first, second = tmp_path / "first", tmp_path / "second"
    write_bare(first, 2)
    (first / "manifest.json").write_text(json.dumps(
        {"sport/000.txt": {"source": "Gazette", "date": "2020-08-18"}}))
    write_bare(second, 3, start=10)
    index = tmp_path / "ix"
    assert run("index", first, "--index", index).exit_code == 0
    assert run("index", second, "--index", index).exit_code == 0
    result = run("search", "harbour", "--index", index, "--facets", "--sort", "date",
                 "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    *hits, summary = [json.loads(line) for line in result.stdout.splitlines()]
    assert [h["source"] for h in hits] == ["Gazette", None, None, None, None]
    assert summary["summary"]["facets"]["sources"] == {"Gazette": 1}
    assert summary["summary"]["facets"]["unknown_source"] == 4
    stats = searchkit.open_index(index).stats()
    assert (stats.sources, stats.unknown_source) == ({"Gazette": 1}, 4)


def test_index_source_must_be_a_name(tmp_path):
    write_bare(tmp_path / "corpus", 1)
    result = run("index", tmp_path / "corpus", "--index", tmp_path / "ix", "--source", "  ")
    assert result.exit_code == 2 and "--source" in result.stderr


@pytest.fixture(scope="module")
def many_sources(tmp_path_factory):
    """14 sources: source k has k+1 articles (k = 0..13), all about the harbour."""
    folder = tmp_path_factory.mktemp("many")
    corpus = folder / "corpus"
    corpus.mkdir()
    manifest = {}
    for k in range(14):
        for n in range(k + 1):
            name = f"s{k:02d}-{n:02d}.txt"
            (corpus / name).write_text(
                f"Story {k} {n}\n\nHarbour news number {n} from outlet {k}, with {k * n} "
                f"boats and {k + n} cranes.\n", encoding="utf-8")
            manifest[name] = {"source": f"Outlet {k:02d}"}
    (corpus / "nobody.txt").write_text("No one's story\n\nHarbour news from nobody at all.\n",
                                       encoding="utf-8")
    (corpus / "manifest.json").write_text(json.dumps(manifest))
    index = folder / "ix"
    assert run("index", corpus, "--index", index).exit_code == 0
    return index


def test_stats_and_facets_show_the_top_sources_and_how_many_more(many_sources):
    stats = run("stats", "--index", many_sources).stdout.split("\n\n")[-1].splitlines()
    assert [line.split()[:2] for line in stats[2:4]] == [["Outlet", "13"], ["Outlet", "12"]]
    assert len(stats) == 2 + 10 + 2  # header, ten sources, "and 4 more", unknown
    assert stats[-2].split() == ["…", "and", "4", "more", "sources", "10"]  # 1+2+3+4 articles
    assert stats[-1].split() == ["—", "1"]
    facets = run("search", "harbour", "--index", many_sources, "--facets", "-n", "1")
    sources = facets.stdout.split("\n\n")[-2].splitlines()
    assert sources[0].split() == ["source", "paragraphs"]
    assert sources[-2].split() == ["…", "and", "4", "more", "sources", "10"]
    assert sources[-1].split() == ["—", "1"]
    summary = json.loads(run("search", "harbour", "--index", many_sources, "--facets",
                             "--format", "jsonl").stdout.splitlines()[-1])["summary"]
    assert len(summary["facets"]["sources"]) == 14  # JSON lists them all
    assert summary["facets"]["unknown_source"] == 1


def test_a_source_the_index_does_not_know_names_the_closest(many_sources, seed_index):
    result = run("search", "harbour", "--index", many_sources, "--source", "Outlet 3")
    assert result.exit_code == 2
    assert "no source 'Outlet 3' in the index; the closest: " in result.stderr
    # as the index writes them (the filter ignores case)
    assert "Outlet 03" in result.stderr.split("the closest: ")[1].strip().split(", ")
    seeds = run("search", "Putin", "--index", seed_index, "--source", "moscow times")
    assert seeds.exit_code == 2 and "the closest: themoscowtimes.com" in seeds.stderr


def test_files_of_types_not_read_are_counted_and_named(tmp_path):
    corpus = tmp_path / "corpus"
    write_bare(corpus, 2)
    for name in ("reut2-000.sgm", "reut2-001.sgm", "lewis.dtd", "scan.pdf", "README"):
        (corpus / name).write_text("<REUTERS>not read</REUTERS>\n")
    result = run("index", corpus, "--index", tmp_path / "ix")
    assert result.exit_code == 0, result.stderr
    assert ("5 files of types not read (.sgm, .dtd, .pdf, no suffix); see docs/formats.md"
            in result.stderr)
    only = tmp_path / "only"
    only.mkdir()
    (only / "reut2-000.sgm").write_text("<REUTERS>not read</REUTERS>\n")
    none = run("index", only, "--index", tmp_path / "ix2")
    assert none.exit_code == 1
    assert "1 file of a type not read (.sgm)" in none.stderr


SGML = ('<!DOCTYPE lewis SYSTEM "lewis.dtd">\n'
        + '<REUTERS TOPICS="YES" NEWID="1">\n<DATE>26-FEB-1987</DATE>\n<TEXT>\n'
          '<TITLE>COCOA</TITLE>\n<BODY>Showers continued.\n</BODY></TEXT>\n</REUTERS>\n' * 50)


@pytest.mark.parametrize("name, text, reason", [
    ("reut2-000.sgm", SGML, "markup (SGML or XML), which searchkit does not read"),
    ("feed.txt", '<?xml version="1.0"?>\n<rss><item><title>A</title></item></rss>\n',
     "markup (SGML or XML)"),
    ("page.txt", "<!DOCTYPE html>\n<html><body><p>Harbour news</p></body></html>\n",
     "an HTML page, not text: name it .html"),
])
def test_markup_named_on_the_command_line_is_refused(tmp_path, name, text, reason):
    path = tmp_path / name
    path.write_text(text)
    write_bare(tmp_path / "corpus", 1)
    result = run("index", path, tmp_path / "corpus", "--index", tmp_path / "ix")
    assert result.exit_code == 3  # finished, one file skipped
    assert f"{path}: {reason}" in result.stderr
    assert "indexed 1 file into" in result.stderr  # the article only, no tags
    stats = searchkit.open_index(tmp_path / "ix").stats()
    assert stats.paragraphs == 2


def test_wire_copy_with_names_in_angle_brackets_is_read(tmp_path):
    """Reuters brackets company names ("<Texaco Inc>"); a short story can be a fifth names,
    and it is still text, not markup."""
    path = tmp_path / "1013.txt"
    path.write_text("<MARK RESOURCES INC> YEAR LOSS\n\nShr not given\n\nLoss 54.9 mln\n\n"
                    "Note: 1986 results include accounts of 89 pct owned <Precambrian Shield "
                    "Resources Ltd>, acquired November 5, 1986\n")
    result = run("index", path, "--index", tmp_path / "ix")
    assert result.exit_code == 0, result.stderr
    assert searchkit.search("Precambrian", tmp_path / "ix").total == 1


def test_text_that_merely_starts_with_a_tag_is_read(tmp_path):
    path = tmp_path / "note.md"
    path.write_text("<!-- draft -->\nHarbour note\n\nThe harbour opened at dawn, the pilots "
                    "said, and the first ships came in before noon.\n")
    result = run("index", path, "--index", tmp_path / "ix")
    assert result.exit_code == 0, result.stderr


def test_indexing_reports_its_steps(tmp_path):
    write_bare(tmp_path / "corpus", 3)
    stages = []

    def progress(label, total):
        stages.append((label, total))
        return lambda done, total: None

    searchkit.build_index([tmp_path / "corpus"], tmp_path / "ix", progress=progress)
    assert [label for label, _ in stages] == [
        "reading", "grouping near-identical paragraphs", "indexing", "counting words",
        "committing"]
    assert dict(stages)["committing"] == 0  # a step without counts


@pytest.mark.parametrize("in_helpers", [False, True])
def test_the_reading_bar_counts_files_as_they_are_read(tmp_path, monkeypatch, in_helpers):
    """Read here or by two helpers, the files are counted a piece at a time as their results
    come in: the count only grows, passes through values between none and all, ends at all."""
    if in_helpers:
        monkeypatch.setattr(build, "PARALLEL_READ_FILES", 2)
        monkeypatch.setattr(build, "PARALLEL_SPARE_CORES", None)
    write_bare(tmp_path / "corpus", 24)
    counts = []

    def progress(label, total):
        return (lambda done, total: counts.append((done, total))) if label == "reading" \
            else (lambda done, total: None)

    searchkit.build_index([tmp_path / "corpus"], tmp_path / "ix", progress=progress)
    done = [d for d, _ in counts]
    assert {t for _, t in counts} == {24} and done == sorted(done) and done[-1] == 24
    assert len({d for d in done if 0 < d < 24}) >= build.READ_PIECES_FEWEST - 1


def test_on_a_terminal_indexing_shows_each_step_with_its_time(tmp_path):
    write_bare(tmp_path / "corpus", 3)
    leader, follower = pty.openpty()
    process = subprocess.run(
        [sys.executable, "-m", "searchkit", "index", str(tmp_path / "corpus"), "--index",
         str(tmp_path / "ix")], stdout=subprocess.DEVNULL, stderr=follower, timeout=120)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # closed once everything is read
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    shown = b"".join(chunks).decode()
    assert process.returncode == 0
    for step in ("grouping near-identical paragraphs …", "counting words …", "committing …"):
        assert step in shown, shown
    assert shown.index("committing") < shown.index("indexed 3 files")
