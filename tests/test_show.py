"""`searchkit show`: the article around a paragraph, with its metadata."""

import json

import pytest
from click.testing import CliRunner
from conftest import S000, S001, S002

from searchkit.cli.commands import main


def show(seed_index, *args):
    return CliRunner().invoke(main, ["show", *args, "--index", str(seed_index)])


def test_a_paragraph_in_its_article_with_context_and_copies(seed_index):
    result = show(seed_index, f"{S000}#19", "--context", "1")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == [
        "Europeans are urging Putin to encourage dialogue to resolve the crisis in Belarus",
        "source: — (from unknown) · date: — (from unknown)",
    ]
    assert lines[2].startswith("file: ") and lines[2].endswith(f"seeds/{S000}.txt")
    assert lines[4] == "      … 17 paragraphs before"
    assert lines[5].startswith("  18  About two hundred people")
    assert lines[6] == ("▶ 19  [Sergey Tikhanovsky, husband of the opposition, Svetlana "
                        "Tkhanovskaya, has been arrested since 29 May.]")
    assert lines[7].startswith("  20  Sergey, the video blogger")
    assert lines[8] == "      … 18 paragraphs after"
    assert lines[-1].endswith(f"({S000}#34)")


def test_first_and_last_paragraphs_have_nothing_beyond_them(seed_index):
    first = show(seed_index, f"{S001}#2", "--context", "1").stdout
    assert "before" not in first and "▶  2  [European leaders urged" in first
    assert "   1 (caption)  Charles Michel Stephanie Lecocq / EPA / TASS" in first
    assert "source: themoscowtimes.com (from url) · date: 2020-08-18 (from byline)" in first
    assert "url: https://www.themoscowtimes.com/2020/08/18/" in first
    last = show(seed_index, f"{S000}#38", "--context", "2").stdout
    assert "after" not in last and last.rstrip().endswith("openly support the demonstrators.]")


def test_captions_are_labelled(seed_index):
    result = show(seed_index, f"{S002}:12#1")
    assert "▶  1 (caption)  [U.S. President Donald Trump speaks" in result.stdout
    assert "   8 (caption)  File photo: Belarus opposition supporters" in result.stdout


def test_an_article_id_shows_it_whole(seed_index):
    result = show(seed_index, f"{S002}:12")
    assert result.exit_code == 0
    assert "▶" not in result.stdout and "before" not in result.stdout
    assert result.stdout.splitlines()[0] == (
        "Trump Says He Is Closely Following ‘Terrible Situation’ In Belarus")
    assert sum(1 for line in result.stdout.splitlines() if line[2:5].strip().isdigit()) == 12


def test_json(seed_index):
    data = json.loads(show(seed_index, f"{S000}#19", "--format", "json").stdout)
    assert (data["id"], data["marked"], len(data["paragraphs"])) == (S000, 19, 38)
    assert data["paragraphs"][18]["id"] == f"{S000}#19"
    assert [d["id"] for d in data["duplicates"]] == [f"{S000}#34"]


@pytest.mark.parametrize("bad", ["nope", f"{S000}#99", f"{S000}#x", "#3", " "])
def test_unknown_ids_are_a_one_line_error(seed_index, bad):
    result = show(seed_index, bad)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no ") and result.stderr.count("\n") == 1
    # ids of this index to copy: a paragraph's and its article's
    paragraph, article = result.stderr.strip().split(", like ")[1].split(" or ")
    assert paragraph.startswith(article + "#")
    assert show(seed_index, paragraph).exit_code == 0 and show(seed_index, article).exit_code == 0
