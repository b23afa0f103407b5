"""Splitting files into articles and classifying every block, on the bundled seeds and sports
pages."""

import json
import re
from collections import Counter
from datetime import date

import pytest
import samples
import searchkit
from hypothesis import given
from hypothesis import strategies as st
from conftest import DATA, S000, S001, S002, S003, S004, SEEDS, needs_data

from searchkit.ingest import encoding
from searchkit.ingest.blocks import split_articles, strip_markdown
from searchkit.ingest.encoding import lines
from searchkit.ingest.corpus import find_files, manifests_for, read_corpus
from searchkit.model import ArticleSummary, replace, to_dict

TITLES_002 = [
    "Belarus Opposition Leader Meets EU to urge sanctions",
    "Belarus Police Detain Hundreds Of Women At Protest",
    "UN Steps Up Pressure Over Belarus Violence",
    "Belarus Protesters Keep Pressure On Lukashenko With New March",
    "Belarus Leader Replaces Security Chiefs As Russia PM Visits",
    "Belarus Police Arrest Protesters In Opposition March",
    "EU Urges Russia Not To Intervene In Belarus",
    "EU To Punish ’15 To 20′ People Over Belarus Crisis",
    "Belarus Braces For Mass Protests As Lukashenko Orders Army To Defend Nation",
    "Belarus Opposition Urges EU To Reject Vote As Leaders Hold Emergency Talks",
    "Emergency EU Summit On Belarus Crisis Begins",
    "Trump Says He Is Closely Following ‘Terrible Situation’ In Belarus",
]


def seed_articles(stem):
    path = next(SEEDS.glob(f"{stem}*.txt"))
    return split_articles(path.read_text(encoding="utf-8"), path.stem)


def kind_of(stem, starts_with):
    blocks = [b for a in seed_articles(stem) for b in a.blocks]
    kinds = {b.kind for b in blocks if b.text.startswith(starts_with)}
    assert len(kinds) == 1, kinds
    return kinds.pop()


def test_articles_per_seed_file():
    counts = {stem: len(seed_articles(stem)) for stem in (S000, S001, S002, S003, S004)}
    assert counts == {S000: 1, S001: 1, S002: 12, S003: 1, S004: 1}


def test_titles_of_the_multi_article_file():
    assert [a.title for a in seed_articles(S002)] == TITLES_002


def test_single_article_files_take_their_first_line_as_title():
    assert seed_articles(S001)[0].title == (
        "EU Leaders Urge Putin to Push for Talks in Belarus Over Disputed Vote"
    )
    assert seed_articles(S003)[0].title == (
        "Lukashenko and Putin say Belarus problems will be settled")


def test_captions_and_credits():
    assert kind_of(S002, "Riot police officers detain a woman during a rally") == "caption"
    assert kind_of(S002, "(FILES) In this file photo") == "caption"
    assert kind_of(S002, "Opposition supporters rally to protest against disputed") == "caption"
    assert kind_of(S002, "Sergei GAPON / AFP") == "credit"
    assert kind_of(S002, "Kay Nietfeld / POOL / AFP") == "credit"
    assert kind_of(S001, "Charles Michel Stephanie Lecocq") == "caption"


def test_every_caption_ending_and_lines_that_only_look_like_one():
    text = "\n\n".join([
        "Headline Of The Test Article Here",
        "Protesters march through the centre of the city. Drew Angerer/Getty Images/AFP",
        "A minister speaks to reporters outside parliament (Photo by Jane Doe).",
        "Crowds gather in the main square before the vote (picture credit: Reuters)",
        "A woman waves a flag from a balcony **Sergei Gapon / AFP**",
        "The strike began on 9/11 and lasted a week, union leaders said on Monday.",
        "Prices rose 5 percent (the most in a year), the office said on Tuesday (Reuters).",
        "The talks ended without a deal and will resume next week, officials said.",
    ])
    kinds = [b.kind for a in split_articles(text, "t") for b in a.blocks]
    assert kinds == ["headline"] + ["caption"] * 4 + ["body"] * 3


_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


@given(st.text(st.sampled_from("ab ." + _LINE_BREAKS) | st.characters(), max_size=300))
def test_lines_read_one_at_a_time_are_those_of_splitlines(text):
    """A file's lines are split at once up to a size and read one at a time past it: the
    same lines either way, at every line break Python knows."""
    assert [raw for raw, _ in lines(text)] == text.splitlines()


def test_a_large_file_is_classified_as_a_small_one(monkeypatch):
    text = ("Headline Of The Test Article Here\r\n\r\n" + "A body line that goes on.\u2028"
            + "Another line.\x0c\n\nBy Jane Doe\n" + "Sergei GAPON / AFP\n\n\nLast line.")
    at_once = [(b.kind, b.text, b.line) for a in split_articles(text, "t") for b in a.blocks]
    monkeypatch.setattr(encoding, "_SPLIT_AT_ONCE", 0)
    assert [(b.kind, b.text, b.line)
            for a in split_articles(text, "t") for b in a.blocks] == at_once


def test_subheadings_tags_and_metadata_lines():
    assert kind_of(S002, "– ‘Sanction Lukashenko’ –") == "subheading"
    assert kind_of(S002, "– NATO ‘stirrings’ –") == "subheading"
    assert kind_of(S001, "Historic demonstrations") == "subheading"
    assert kind_of(S004, "Killed protester was") == "subheading"
    assert kind_of(S004, "Europe Update") == "tag"
    assert kind_of(S004, "Read from source") == "tag"
    assert kind_of(S003, "Leave a Reply") == "tag"
    assert kind_of(S002, "European Union, Ogbonnaya Onu") == "tag"
    assert kind_of(S001, "Related article:") == "tag"
    assert kind_of(S001, "By Tatiana Kalinovskaya for AFP") == "byline"
    assert kind_of(S001, "August 18, 2020") == "dateline"
    assert kind_of(S001, "https://www.themoscowtimes.com/") == "url"


def test_every_line_of_every_seed_is_a_block():
    """Nothing is silently lost: each non-blank line is one block with a kind."""
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        blocks = [b for a in split_articles(text, path.stem) for b in a.blocks]
        assert len(blocks) == sum(1 for line in text.splitlines() if line.strip()), path.name


def test_seed_corpus_kinds_and_paragraph_ids():
    corpus = read_corpus([SEEDS])
    assert (corpus.files, len(corpus.articles), corpus.paragraphs) == (5, 16, 341)
    assert corpus.blocks_by_kind == {
        "body": 324, "caption": 17, "byline": 1, "credit": 2, "dateline": 1,
        "headline": 16, "subheading": 15, "tag": 8, "url": 2,
    }
    trump = next(a for a in corpus.articles if a.id == f"{S002}:12")
    assert [p.id for p in trump.paragraphs[:2]] == [f"{S002}:12#1", f"{S002}:12#2"]
    assert Counter(p.kind for p in trump.paragraphs) == {"caption": 3, "body": 9}


def test_markdown_and_hard_wrapped_paragraphs():
    text = (
        "# Council meets in Minsk\n\n"
        "The council met on Tuesday to discuss the crisis, and its members agreed\n"
        "on a **statement** read by [Maria Kolesnikova](https://example.org/mk).\n\n"
        "## Reactions\n\n"
        "- Lithuania welcomed the statement.\n"
        "- Poland asked for more.\n"
    )
    (article,) = split_articles(text, "council")
    assert article.title == "Council meets in Minsk"
    assert [(b.kind, b.text) for b in article.blocks] == [
        ("headline", "Council meets in Minsk"),
        ("body", "The council met on Tuesday to discuss the crisis, and its members agreed "
                 "on a statement read by Maria Kolesnikova."),
        ("subheading", "Reactions"),
        ("body", "Lithuania welcomed the statement."),
        ("body", "Poland asked for more."),
    ]


def test_strip_markdown():
    assert strip_markdown("By [Jane Doe for AFP](#) **now** <https://a.example/x>") == (
        "By Jane Doe for AFP now https://a.example/x"
    )


def sports_article(name):
    """A BBC sport page (read in place) or an invented one (samples.ARTICLES)."""
    if name in samples.ARTICLES:
        text = samples.ARTICLES[name][1]
    else:
        text = (DATA / "bbc" / "sport" / f"{name}.txt").read_text(encoding="utf-8")
    (article,) = split_articles(text, name)
    return article


@pytest.mark.parametrize("name, items", [
    ("results.txt", ["3 Sofía Herrera (Argentina)", "Brennan v Moreau"]),
    pytest.param("476", ["3 Lleyton Hewitt (Australia)", "16 Tommy Haas (Germany)"],
                 marks=needs_data("bbc")),
])
def test_short_lines_in_a_row_are_a_list_and_get_indexed(name, items):
    """Seedings and fixtures in sports pages are content, not sub-headings."""
    blocks = {b.text: b.kind for b in sports_article(name).blocks}
    assert [blocks[item] for item in items] == ["body"] * len(items)


@pytest.mark.parametrize("name, title", [
    ("charity.txt", "Okafor/Brennan lead charity match stars"),
    pytest.param("331", "O'Driscoll/Gregan lead Aid stars", marks=needs_data("bbc")),
])
def test_a_headline_with_a_slash_is_not_a_photo_credit(name, title):
    article = sports_article(name)
    assert article.title == title
    assert article.blocks[0].kind == "headline"


# ---- a title known from elsewhere: the first line is a paragraph, unless it repeats it ------

PAGE = """<html><head><title>{title}</title></head><body><article>
<p>{first}</p>
<p>The council met on Tuesday to discuss the crisis, and its members agreed on a statement
read by the chair of the council to the press.</p></article></body></html>"""


def test_a_first_line_is_a_paragraph_when_the_title_comes_from_elsewhere(tmp_path):
    (tmp_path / "note.txt").write_text("Council met on Tuesday\n\nIt agreed on a statement.\n")
    (tmp_path / "page.html").write_text(PAGE.format(title="Council Meets", first="Tuesday"))
    (tmp_path / "again.html").write_text(
        PAGE.format(title="Council Meets", first="Council Meets"))
    (tmp_path / "records.jsonl").write_text("\n".join(json.dumps(record) for record in [
        {"_id": "a", "title": "Council Meets", "text": "Short first line\nAnd a body line."},
        {"_id": "b", "title": "Council Meets", "text": "Council meets!\nAnd a body line."},
    ]) + "\n")
    (tmp_path / "manifest.json").write_text(json.dumps({
        "note.txt": {"title": "From the manifest"},
        "again.html": {"title": "Minutes of the council"},
    }))
    corpus = read_corpus([tmp_path])
    shown = {a.id: (a.title, [p.text for p in a.paragraphs]) for a in corpus.articles}
    assert shown["note"] == ("From the manifest",
                             ["Council met on Tuesday", "It agreed on a statement."])
    assert shown["page"][0] == "Council Meets"
    assert shown["page"][1][0] == "Tuesday"  # not a section label left out
    assert shown["again"][0] == "Minutes of the council"
    assert shown["again"][1][0] == "Council Meets"  # the page's own title, not lost
    assert shown["records:a"] == ("Council Meets", ["Short first line", "And a body line."])
    assert shown["records:b"] == ("Council Meets", ["And a body line."])  # it repeats the title
    for article in corpus.articles:  # what is not indexed is the title (or counted metadata)
        assert all(re.findall(r"\w+", b.text.lower()) == re.findall(r"\w+", article.title.lower())
                   for b in article.blocks if b.kind == "headline")
    assert corpus.blocks_by_kind == {"body": 9, "headline": 2}


def test_files_found_and_their_manifest_entries_share_what_is_alike(tmp_path):
    """A build holds every file found and its manifest entry: the walk's path is the file's
    real path where no link is on the way, and entries of the same fields are one dict."""
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_text(f"Story {name}\n\nIts text.\n")
    (tmp_path / "manifest.json").write_text(json.dumps({
        "a.txt": {"source": "Wire", "date": "2020-01-02"},
        "b.txt": {"date": "2020-01-02", "source": "Wire"},
        "c.txt": {"source": "Wire", "date": "2020-01-03"},
    }))
    files, _ = find_files([tmp_path])
    assert all(file.real is file.path for file in files)
    entries = manifests_for([tmp_path], files, [])
    a, b, c = (entries[file.real] for file in files)
    assert a is b and a == {"source": "Wire", "date": date(2020, 1, 2)}
    assert c == {"source": "Wire", "date": date(2020, 1, 3)}
    assert all(any(key is file.real for file in files) for key in entries)
    dated = {article.id: article.date for article in read_corpus([tmp_path]).articles}
    assert dated == {"a": date(2020, 1, 2), "b": date(2020, 1, 2), "c": date(2020, 1, 3)}


def test_manifests_are_not_counted_as_files_of_types_not_read(tmp_path):
    """A manifest is read for its entries; other .csv and .json files are not read."""
    corpus = tmp_path / "corpus"
    (corpus / "wire").mkdir(parents=True)
    (corpus / "a.txt").write_text("Ferry\n\nThe winter timetable starts.\n")
    (corpus / "wire" / "b.txt").write_text("Zebra\n\nA new crossing opens.\n")
    (corpus / "manifest.csv").write_text("file,source\na.txt,AFP\n")
    (corpus / "wire" / "manifest.json").write_text('{"b.txt": {"source": "Reuters"}}')
    (corpus / "figures.csv").write_text("year,ferries\n2020,4\n")
    (corpus / "wire" / "feed.json").write_text("{}")
    read = read_corpus([corpus])
    assert {a.id: a.source for a in read.articles} == {"a": "AFP", "wire/b": "Reuters"}
    assert read.unread == {".csv": 1, ".json": 1}
    summary = searchkit.build_index([corpus], tmp_path / "ix")
    assert summary.unread_files == {".csv": 1, ".json": 1}


def test_files_of_the_same_layout_under_two_folders_keep_apart(tmp_path):
    """Outlets' folders of the same layout: the files of each folder after the first are
    keyed by its own real name (the second given through a link here), and none is lost."""
    for outlet in ("first", "second", "third"):
        for day in ("01", "02"):
            (tmp_path / outlet / day).mkdir(parents=True)
            for n in range(3):
                (tmp_path / outlet / day / f"{n}.txt").write_text(f"{outlet} {day} {n}\n")
    (tmp_path / "link").symlink_to(tmp_path / "second")
    files, skipped = find_files([tmp_path / "first", tmp_path / "link", tmp_path / "third"])
    assert not skipped
    keys = [file.key for file in files]
    days_and_names = [f"{day}/{n}" for day in ("01", "02") for n in range(3)]
    assert keys == days_and_names + [f"{outlet}/{key}" for outlet in ("second", "third")
                                     for key in days_and_names]
    assert all(file.real.startswith(str(tmp_path / file.key.partition("/")[0]) + "/")
               for file in files[6:])


def test_a_title_from_the_manifest_for_a_file_of_several_articles_is_not_used(tmp_path):
    text = (SEEDS / next(p.name for p in SEEDS.iterdir() if p.name.startswith(S002)))
    (tmp_path / "many.txt").write_text(text.read_text(encoding="utf-8"))
    (tmp_path / "manifest.json").write_text(json.dumps({"many.txt": {"title": "One title"}}))
    articles = read_corpus([tmp_path]).articles
    assert [a.title for a in articles] == TITLES_002


@pytest.mark.parametrize("helpers", [False, True], ids=["one process", "read in helpers"])
def test_a_builds_summary_counts_what_reading_the_files_gives(helpers, tmp_path, monkeypatch):
    """The build holds what it read as columns (read in two helpers when there are many
    files): its summary gives every article and paragraph reading the files gives, and
    every paragraph is in the index with its text."""
    from searchkit.index import build, store

    if helpers:
        monkeypatch.setattr(build, "PARALLEL_READ_FILES", 2)
        monkeypatch.setattr(build, "PARALLEL_SPARE_CORES", None)
    corpus = read_corpus([SEEDS])
    summary = searchkit.build_index([SEEDS], tmp_path / "ix")
    assert (summary.files, summary.articles, summary.paragraphs) == (
        corpus.files, len(corpus.articles), corpus.paragraphs)
    assert summary.blocks_by_kind == corpus.blocks_by_kind
    assert summary.paragraphs_by_kind == Counter(
        p.kind for a in corpus.articles for p in a.paragraphs) == {"body": 324, "caption": 17}
    assert [(s.id, s.paragraphs, s.source, s.source_from, s.date, s.date_from)
            for s in summary.article_summaries] == [
        (a.id, len(a.paragraphs), a.source, a.source_from, a.date, a.date_from)
        for a in corpus.articles]
    # (the summary's records are made as they are asked for: a sequence that is their tuple)
    made = tuple(ArticleSummary(a.id, len(a.paragraphs), a.source, a.source_from, a.date,
                                a.date_from) for a in corpus.articles)
    articles = summary.article_summaries
    assert articles == made and len(articles) == len(made) and articles[-1] == made[-1]
    assert articles[2:5] == made[2:5] and hash(articles) == hash(made)
    assert to_dict(summary)["article_summaries"] == tuple(to_dict(s) for s in made)
    assert summary == replace(summary) and len(summary.file_actions) == corpus.files
    assert {action.action for action in summary.file_actions} == {"added"}
    with store.open_index(tmp_path / "ix").searcher() as searcher:
        stored = {f["id"]: f for f in searcher.reader().all_stored_fields()}
    assert {p.id: (p.text, p.kind, p.number) for a in corpus.articles for p in a.paragraphs} \
        == {pid: (f["text"], f["kind"], f["paragraph"]) for pid, f in stored.items()}
