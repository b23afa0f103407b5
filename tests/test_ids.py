"""Ids round-trip: every id an output prints finds its paragraph again with `show`, whatever
characters the file's name holds."""

import json
from pathlib import Path

import pytest
from conftest import invoke as run

NAMES = {
    "hash": "a#b.txt",
    "newline": "line\nbreak.txt",
    "escape": "esc\x1b[31mape.txt",
    "spaces": " padded name .txt",
    "digits": "story#12.txt",
    "colon": "wire:7.txt",
}


@pytest.fixture(scope="module")
def odd_names(tmp_path_factory):
    """A folder of one-article files with odd names, each with a word of its own, indexed."""
    folder = tmp_path_factory.mktemp("odd-names")
    corpus = folder / "corpus"
    corpus.mkdir()
    for word, name in NAMES.items():
        (corpus / name).write_text(
            f"Headline of the {word} story\n\n{word.capitalize()} opens here.\n\n"
            f"Only the {word} file mentions {word}zebra.\n",
            encoding="utf-8")
    (corpus / "story.txt").write_text(  # its paragraph 12 would be "story#12"
        "Story\n\n" + "\n\n".join(f"Paragraph {n} of the long story." for n in range(1, 14)),
        encoding="utf-8")
    index = folder / "ix"
    result = run("index", corpus, "--index", index)
    assert result.exit_code == 0, result.stderr
    return index


@pytest.mark.parametrize("word", sorted(NAMES))
def test_an_id_from_search_output_shows_its_paragraph(odd_names, word):
    found = run("search", f"{word}zebra", "--index", odd_names, "--format", "jsonl")
    (record,) = [json.loads(line) for line in found.stdout.splitlines()]
    assert "\n" not in record["id"] and "\x1b" not in record["id"]
    shown = run("show", record["id"], "--index", odd_names, "--format", "json")
    assert shown.exit_code == 0, shown.stderr
    article = json.loads(shown.stdout)
    assert article["marked"] == record["paragraph"] == 2
    assert f"{word}zebra" in article["paragraphs"][1]["text"]
    assert run("show", record["article_id"], "--index", odd_names).exit_code == 0


def test_the_plain_output_keeps_an_odd_id_on_its_line(odd_names):
    found = run("search", "newlinezebra", "--index", odd_names)
    about = found.stdout.splitlines()[1]  # "source · date · id · kind · score"
    printed = about.split(" · ")[2]
    assert printed == r"line\nbreak#2"
    shown = run("show", printed, "--index", odd_names)
    assert shown.exit_code == 0 and "▶ 2  [Only the newline file" in shown.stdout
    assert all("\x1b" not in line for line in shown.stdout.splitlines())
    assert any(line.startswith("file: ") and line.endswith(r"line\nbreak.txt")
               for line in shown.stdout.splitlines())


def test_a_paragraph_id_and_an_article_id_that_look_alike(odd_names):
    """story.txt's paragraph 12 is story#12; the file story#12.txt is article story#12."""
    paragraph = json.loads(run("show", "story#12", "--index", odd_names, "--format",
                               "json").stdout)
    assert (paragraph["id"], paragraph["marked"]) == ("story", 12)
    article = json.loads(run("show", "story#12#2", "--index", odd_names, "--format",
                             "json").stdout)
    assert (article["id"], article["marked"]) == ("story#12", 2)


def test_an_unknown_id_is_a_one_line_error(odd_names):
    result = run("show", "a#b#9", "--index", odd_names)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1].startswith("Error: no paragraph or article")


def article_ids(index):
    """The article id of every paragraph's file: path -> article id."""
    found = run("search", "story", "--index", index, "--format", "jsonl", "--limit", "50",
                "--no-dedup")
    assert found.exit_code == 0, found.stderr
    return {Path(r["path"]).relative_to(index.parent).as_posix(): r["article_id"]
            for r in map(json.loads, found.stdout.splitlines())}


def test_a_clashing_id_is_qualified_by_the_indexed_folders_name_and_kept(tmp_path):
    """A file keyed as one indexed by an earlier run gets its indexed folder's name in front,
    as two folders given in one run do; ids already given stay."""
    for outlet in ("p1", "p2"):
        (tmp_path / outlet / "a").mkdir(parents=True)
        (tmp_path / outlet / "a" / "x.txt").write_text(f"Title\n\nThe {outlet} story.\n")
    index = tmp_path / "ix"
    for outlet in ("p1", "p2", "p1", "p2"):
        assert run("index", tmp_path / outlet, "--index", index, "-q").exit_code == 0
    assert article_ids(index) == {"p1/a/x.txt": "a/x", "p2/a/x.txt": "p2/a/x"}


def test_files_given_one_by_one_are_qualified_by_their_folders_in_one_run_or_two(tmp_path):
    """``index cnn/story.txt bbc/story.txt``: "story" and "bbc/story" (not "story.txt/story"),
    as two runs, one file each, key them."""
    for outlet in ("cnn", "bbc", "afp"):
        (tmp_path / outlet).mkdir()
        (tmp_path / outlet / "story.txt").write_text(f"Title\n\nThe {outlet} story.\n")
    files = [tmp_path / outlet / "story.txt" for outlet in ("cnn", "bbc", "afp")]
    once, twice = tmp_path / "once", tmp_path / "twice"
    assert run("index", *files, "--index", once, "-q").exit_code == 0
    for file in files:
        assert run("index", file, "--index", twice, "-q").exit_code == 0
    expected = {"cnn/story.txt": "story", "bbc/story.txt": "bbc/story",
                "afp/story.txt": "afp/story"}
    assert article_ids(once) == article_ids(twice) == expected


@pytest.mark.parametrize("together", [True, False])
def test_a_file_named_like_another_files_article_gets_ids_of_its_own(tmp_path, together):
    """wire.jsonl's records are the articles "wire:1", "wire:2", ...: a file named wire:2.txt,
    indexed in the same run or before the JSON lines came, is keyed apart, and every article
    is found by an id of its own (two articles of one id made an index every search called
    damaged)."""
    import searchkit

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "wire:2.txt").write_text("Cranes\n\nThe cranes stood idle at the quay.\n",
                                       encoding="utf-8")
    records = [{"title": f"Record {n}", "text": f"Record {n} speaks of harbour {n}word."}
               for n in range(1, 4)]
    lines = "".join(json.dumps(record) + "\n" for record in records)
    if not together:
        searchkit.build_index([corpus], tmp_path / "ix")
    (corpus / "wire.jsonl").write_text(lines, encoding="utf-8")
    searchkit.build_index([corpus], tmp_path / "ix")
    assert searchkit.check(tmp_path / "ix").ok
    with searchkit.open_index(tmp_path / "ix") as searcher:
        ids = [searcher.search(word).hits[0].article_id
               for word in ("cranes", "1word", "2word", "3word")]
        assert len(set(ids)) == 4, ids
        for article_id in ids:
            assert searcher.show(article_id).id == article_id
