"""Source and date of each article, with where they were found; manifests."""

import json
import shutil
from datetime import date

import pytest
import samples
from conftest import DATA, S000, S001, S002, SEEDS, needs_data

from searchkit.ingest.corpus import read_corpus
from searchkit.ingest.metadata import date_in_path, parse_date


def articles_by_id(paths):
    return {a.id: a for a in read_corpus(paths).articles}


def test_seed_001_source_from_url_and_date_from_dated_byline():
    article = articles_by_id([SEEDS])[S001]
    assert (article.source, article.source_from) == ("themoscowtimes.com", "url")
    assert (article.date, article.date_from) == (date(2020, 8, 18), "byline")
    assert article.url == (
        "https://www.themoscowtimes.com/2020/08/18/"
        "eu-chief-michel-talks-to-putin-on-belarus-crisis-a71187"
    )


def test_articles_without_a_findable_date_have_none():
    articles = articles_by_id([SEEDS])
    assert (articles[S000].date, articles[S000].date_from) == (None, "unknown")
    # Nor a source: the file's name says nothing of who published it.
    assert (articles[S000].source, articles[S000].source_from) == (None, "unknown")
    # Photo captions in 002 carry dates ("on September 21, 2020"): a photo's date is not the
    # article's publication date, so none is invented.
    assert all(articles[f"{S002}:{n}"].date is None for n in range(1, 13))


def test_date_forms():
    assert parse_date("August 18, 2020") == date(2020, 8, 18)
    assert parse_date("Tuesday, 18 August 2020 10:31 GMT") == date(2020, 8, 18)
    assert parse_date("Aug. 18, 2020") == date(2020, 8, 18)
    assert parse_date("2020-08-18") == date(2020, 8, 18)
    assert parse_date("February 30, 2020") is None
    assert parse_date("August 18, 2020 was a Tuesday.") is None
    assert date_in_path("https://example.org/2020/08/18/story") == date(2020, 8, 18)
    assert date_in_path("2019-12-31-year-end.txt") == date(2019, 12, 31)
    assert date_in_path("https://example.org/story-a71187") is None


def test_byline_outlet_and_published_line(tmp_path):
    (tmp_path / "story.txt").write_text(
        "Strikes spread to state factories\n\nBy Jane Doe for Reuters\n\n"
        "Published: 19 August 2020\n\nWorkers at the tractor plant walked out on Wednesday.\n",
        encoding="utf-8",
    )
    article = articles_by_id([tmp_path])["story"]
    assert (article.source, article.source_from) == ("Reuters", "byline")
    assert (article.date, article.date_from) == (date(2020, 8, 19), "text")


STORY = "Strikes spread to state factories\n\n{}\n\nWorkers at the plant walked out.\n"


def date_and_text(folder, lines):
    (folder / "story.txt").write_text(STORY.format("\n\n".join(lines)), encoding="utf-8")
    article = articles_by_id([folder])["story"]
    return article.date, article.date_from, [p.text for p in article.paragraphs]


@pytest.mark.parametrize("lines, when, date_from", [
    (["Updated: 12 May 2021", "Published: 10 May 2021"], date(2021, 5, 10), "text"),
    (["Last updated on 12 May 2021", "May 10, 2021"], date(2021, 5, 10), "byline"),
    (["Published: 2020-08-18T10:30:00Z"], date(2020, 8, 18), "text"),
    (["Posted on 2020-08-18T10:30:00.250+03:00"], date(2020, 8, 18), "text"),
    # one line of both, in either order
    (["Published 10 May 2021, updated 12 May 2021"], date(2021, 5, 10), "text"),
    (["First published on Mon 10 May 2021 10.00 BST; last modified on Wed 12 May 2021 08.15 "
      "BST"], date(2021, 5, 10), "text"),
    (["Updated: 12 May 2021 | Published: 10 May 2021"], date(2021, 5, 10), "text"),
    (["Updated 12 May 2021 and modified 13 May 2021"], None, "unknown"),
    # a revision's date alone is no publication date; the line is metadata all the same
    (["Updated: 12 May 2021"], None, "unknown"),
])
def test_published_not_updated_lines_date_the_article(tmp_path, lines, when, date_from):
    kept = ["Workers at the plant walked out."]
    assert date_and_text(tmp_path, lines) == (when, date_from, kept)


@pytest.mark.parametrize("byline, when, source", [
    ("By Jane Doe, August 18, 2020", date(2020, 8, 18), None),
    ("By Jane Doe for AFP, August 18, 2020", date(2020, 8, 18), "AFP"),
    ("By Jane Doe | AFP | August 18, 2020", date(2020, 8, 18), "AFP"),
    ("By Jane Doe — Reuters — Tuesday, 18 August 2020 10:31 GMT", date(2020, 8, 18), "Reuters"),
    ("By Jane Doe | Published: 2020-08-18T10:30:00Z", date(2020, 8, 18), None),
    ("By Jane Doe for AFP", None, "AFP"),
    ("By Jane Doe for AFP.", None, "AFP"),
    ("By Jane Doe (Reuters).", None, "Reuters"),
    ("By Jane Doe, August 18, 2020.", date(2020, 8, 18), None),
    ("By Jane Doe | Updated: 12 May 2021", None, None),
    ("By Jane Doe | Published 10 May 2021, updated 12 May 2021", date(2021, 5, 10), None),
    ("By Tuesday, August 18, 2020", None, None),  # a deadline, not a writer
])
def test_a_dated_byline_gives_the_date_and_its_outlet_the_source(tmp_path, byline, when, source):
    (tmp_path / "story.txt").write_text(STORY.format(byline), encoding="utf-8")
    article = articles_by_id([tmp_path])["story"]
    assert (article.date, article.date_from) == (when, "byline" if when else "unknown")
    assert (article.source, article.source_from) == (source, "byline" if source else "unknown")


@pytest.mark.parametrize("line, indexed", [
    ("By Jane Doe.", False),
    ("By Ólafur Arnalds and Jane Doe.", False),
    ("By noon the crowd had grown.", True),
    ("By 2030, emissions will fall.", True),
])
def test_a_byline_ending_in_a_full_stop_is_not_indexed(tmp_path, line, indexed):
    when, date_from, paragraphs = date_and_text(tmp_path, [line])
    assert (line in paragraphs) == indexed, paragraphs


def test_a_date_in_the_story_is_not_the_byline_date(tmp_path):
    """Only a date that ends a byline line dates the article: not one in a sentence under it,
    in a caption, or in a sentence that starts with "By"."""
    lines = ["By Jane Doe for AFP",
             "By August 18, 2020, the plant had closed.",
             "Workers leave the plant in Minsk on August 18, 2020. Kay Nietfeld / POOL / AFP",
             "The law, passed on August 18, 2020, took effect on Thursday."]
    when, date_from, paragraphs = date_and_text(tmp_path, lines)
    assert (when, date_from) == (None, "unknown")
    assert paragraphs == lines[1:] + ["Workers at the plant walked out."]


@pytest.mark.parametrize("lines, source, source_from, kept", [
    (["Source: Reuters"], "Reuters", "text", []),
    (["source : Associated Press"], "Associated Press", "text", []),
    # the address of the story says who published it; the line, who wrote it first
    (["Source: AFP", "Original url: https://www.example.org/2020/08/18/s"], "example.org", "url",
     []),
    (["By Jane Doe for Reuters", "Source: AFP"], "AFP", "text", []),
    (["Source: https://www.example.org/2020/08/18/s"], "example.org", "url", []),
    # an address without its scheme is an address line all the same (no source from it)
    (["Link: tinyurl.com/4x7k2p", "URL: bbc.co.uk/news/world-123"], None, "unknown", []),
    (["Source: Reuters, August 18, 2020"], "Reuters", "text", []),
    # a sentence about a source is the story's text
    (["Source: the ministry, which revised the figures twice."], None, "unknown",
     ["Source: the ministry, which revised the figures twice."]),
])
def test_a_source_line_names_the_source_below_the_address(tmp_path, lines, source,
                                                          source_from, kept):
    (tmp_path / "story.txt").write_text(STORY.format("\n\n".join(lines)), encoding="utf-8")
    article = articles_by_id([tmp_path])["story"]
    assert (article.source, article.source_from) == (source, source_from)
    assert [p.text for p in article.paragraphs] == kept + ["Workers at the plant walked out."]


def test_json_manifest_overrides_title_source_and_date(tmp_path):
    shutil.copy(next(SEEDS.glob(f"{S000}*")), tmp_path)
    shutil.copy(next(SEEDS.glob(f"{S001}*")), tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({
        f"{S000}.txt": {"source": "Example Wire", "date": "2020-08-18", "title": "EU and Putin"},
        f"{S001}.txt": {"date": "2020-08-19"},
    }), encoding="utf-8")
    articles = articles_by_id([tmp_path])
    first, second = articles[S000], articles[S001]
    assert (first.source, first.source_from) == ("Example Wire", "manifest")
    assert (first.date, first.date_from) == (date(2020, 8, 18), "manifest")
    assert first.title == "EU and Putin"
    assert (second.date, second.date_from) == (date(2020, 8, 19), "manifest")
    assert (second.source, second.source_from) == ("themoscowtimes.com", "url")


def test_csv_manifest_and_its_mistakes_are_reported_not_fatal(tmp_path):
    shutil.copy(next(SEEDS.glob(f"{S000}*")), tmp_path)
    (tmp_path / "manifest.csv").write_text(
        "file,source,date,colour\n"
        f"{S000}.txt,Example Wire,18/08/2020,red\n"
        "missing.txt,Other,2020-01-01,\n",
        encoding="utf-8",
    )
    corpus = read_corpus([tmp_path])
    (article,) = corpus.articles
    assert (article.source, article.date) == ("Example Wire", None)
    assert any("date '18/08/2020' ignored" in w for w in corpus.warnings)
    assert any("unknown field 'colour'" in w for w in corpus.warnings)
    assert any("missing.txt" in w and "no such file" in w for w in corpus.warnings)


def test_repeated_manifest_entries_share_their_checks_only_as_the_same_text(tmp_path):
    """Entries that repeat share their checked fields; one equal in value but not in text
    (1, 1.0, True; 0.0, -0.0) is checked on its own, and each bad entry is warned of."""
    names = ["one", "float", "bool", "again", "bad_date", "bad_date_again", "list", "zero",
             "minus_zero", "wire", "wire_again"]
    for name in names:
        (tmp_path / f"{name}.txt").write_text("Workers walked out on Wednesday.\n",
                                              encoding="utf-8")
    values = [1, 1.0, True, 1, "1", "1", [1], 0.0, -0.0, "Reuters", "Reuters"]
    (tmp_path / "manifest.json").write_text(json.dumps({
        f"{name}.txt": {"source": value, "date": "2020-13-01" if "bad" in name else "2020-08-18"}
        for name, value in zip(names, values)}), encoding="utf-8")
    corpus = read_corpus([tmp_path])
    found = {a.id: (a.source, a.source_from, a.date) for a in corpus.articles}
    august = date(2020, 8, 18)
    assert found["one"] == found["again"] == ("1", "manifest", august)
    assert found["float"] == ("1.0", "manifest", august)
    assert (found["zero"][0], found["minus_zero"][0]) == ("0.0", "-0.0")
    assert found["wire"] == found["wire_again"] == ("Reuters", "manifest", august)
    assert found["bool"][:2] == found["list"][:2] == (None, "unknown")
    assert found["bad_date"] == found["bad_date_again"] == ("1", "manifest", None)
    warned = sorted(w.split("[")[1].split("]")[0] for w in corpus.warnings)
    assert warned == ["bad_date.txt", "bad_date_again.txt", "bool.txt", "list.txt"]


@pytest.mark.parametrize("name, text", [
    ("manifest.csv", "file,source,date\nstory.txt,AFP,2020-08-18\n"),
    ("manifest.json", '{"story.txt": {"source": "AFP", "date": "2020-08-18"}}'),
])
def test_a_manifest_with_a_byte_order_mark_is_read(tmp_path, name, text):
    """Excel's "CSV UTF-8" and Notepad save UTF-8 with a byte order mark."""
    (tmp_path / "story.txt").write_text("Ferry timetable\n\nThe winter timetable starts.\n",
                                        encoding="utf-8")
    (tmp_path / name).write_text(text, encoding="utf-8-sig")
    corpus = read_corpus([tmp_path])
    (article,) = corpus.articles
    assert (article.source, article.source_from) == ("AFP", "manifest")
    assert (article.date, article.date_from) == (date(2020, 8, 18), "manifest")
    assert corpus.warnings == []


@pytest.mark.parametrize("name, text", [
    ("manifest.csv", "file,source,date\nstory.txt,Agence France-Presse – Zürich,2020-08-18\n"),
    ("manifest.json",
     '{"story.txt": {"source": "Agence France-Presse – Zürich", "date": "2020-08-18"}}'),
])
def test_a_manifest_in_the_system_code_page_is_read_with_a_warning(tmp_path, name, text):
    """Excel's plain "CSV" is saved in the system's code page (cp1252 in the West)."""
    (tmp_path / "story.txt").write_text("Ferry timetable\n\nThe winter timetable starts.\n",
                                        encoding="utf-8")
    (tmp_path / name).write_bytes(text.encode("cp1252"))
    corpus = read_corpus([tmp_path])
    (article,) = corpus.articles
    assert (article.source, article.source_from) == ("Agence France-Presse – Zürich",
                                                     "manifest")
    assert (article.date, article.date_from) == (date(2020, 8, 18), "manifest")
    (warning,) = corpus.warnings
    assert f"{name}: manifest not UTF-8" in warning and "cp1252" in warning


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig"])
def test_a_manifest_with_a_byte_order_mark_is_read_without_a_warning(tmp_path, encoding):
    (tmp_path / "story.txt").write_text("Ferry timetable\n\nThe winter timetable starts.\n",
                                        encoding="utf-8")
    (tmp_path / "manifest.csv").write_text("file,source\nstory.txt,Zürcher Zeitung\n",
                                           encoding=encoding)
    corpus = read_corpus([tmp_path])
    assert corpus.articles[0].source == "Zürcher Zeitung" and corpus.warnings == []


def test_a_manifest_that_is_not_text_is_ignored_with_a_warning(tmp_path):
    shutil.copy(next(SEEDS.glob(f"{S000}*")), tmp_path)
    (tmp_path / "manifest.csv").write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
    corpus = read_corpus([tmp_path])
    assert len(corpus.articles) == 1
    (warning,) = corpus.warnings
    assert "manifest.csv: manifest ignored: binary file (a ZIP archive" in warning


def test_broken_manifest_is_ignored_with_a_warning(tmp_path):
    shutil.copy(next(SEEDS.glob(f"{S000}*")), tmp_path)
    (tmp_path / "manifest.json").write_text("{not json", encoding="utf-8")
    corpus = read_corpus([tmp_path])
    assert len(corpus.articles) == 1
    assert len(corpus.warnings) == 1 and "manifest ignored" in corpus.warnings[0]


@pytest.mark.parametrize("name, title", [
    ("harbour.txt", "Harbour strike ends after 11-day stand-off"),
    pytest.param("001.txt", "Ad sales boost Time Warner profit", marks=needs_data("bbc")),
])
def test_plain_articles_have_no_date_and_keep_their_headline(tmp_path, name, title):
    """As in BBC News, and an invented story with a dateline's day but no year."""
    folder = DATA / "bbc" / "business"
    if name in samples.ARTICLES:
        folder = tmp_path
        samples.write_articles(folder)
    (article,) = articles_by_id([folder / name]).values()
    assert article.title == title
    assert (article.date, article.source, article.source_from) == (None, None, "unknown")
    assert len(article.paragraphs) == 5  # the blank-line separated paragraphs under the headline


def test_numbers_inside_ids_are_not_dates():
    assert date_in_path("story-x20200818y") is None
    assert date_in_path("a2020-08-18") is None
    assert date_in_path("news/20200818/story") == date(2020, 8, 18)
    assert date_in_path("2020_08_18_story.txt") == date(2020, 8, 18)


# The same values, given by a manifest and by the file itself (front matter, a JSON record):
# one validator, so the same ones are refused with the same reasons.
STATED = {"title": "Talks\n  in   Minsk", "source": True, "url": "ftp://example.org/talks"}
REFUSED = ["source True ignored: not a single value",
           "url 'ftp://example.org/talks' ignored: not an http(s) address"]


def stated_in_front_matter(folder, date_value):
    lines = [f"{key}: {json.dumps(value)}" for key, value in STATED.items()]
    (folder / "story.md").write_text("---\n" + "\n".join(lines) + f"\ndate: {date_value}\n"
                                     "---\nLeaders met in Minsk on Tuesday.\n", encoding="utf-8")


def stated_in_a_manifest(folder, date_value):
    (folder / "story.txt").write_text("Leaders met\n\nLeaders met in Minsk on Tuesday.\n",
                                      encoding="utf-8")
    (folder / "manifest.json").write_text(json.dumps({"story.txt": {**STATED,
                                                                    "date": date_value}}))


def stated_in_a_record(folder, date_value):
    record = {**STATED, "date": date_value, "text": "Leaders met in Minsk on Tuesday."}
    (folder / "story.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")


@pytest.mark.parametrize("state", [stated_in_front_matter, stated_in_a_manifest,
                                   stated_in_a_record])
def test_metadata_is_validated_alike_wherever_it_is_stated(tmp_path, state):
    state(tmp_path, "2020-08-18")
    corpus = read_corpus([tmp_path])
    (article,) = corpus.articles
    assert (article.title, article.date) == ("Talks in Minsk", date(2020, 8, 18))
    assert article.source is None and article.url is None
    assert all(any(reason in w for w in corpus.warnings) for reason in REFUSED), corpus.warnings


@pytest.mark.parametrize("state", [stated_in_front_matter, stated_in_a_manifest,
                                   stated_in_a_record])
@pytest.mark.parametrize("written", ["0001-01-01", "9999-12-31"])
def test_a_placeholder_date_is_no_publication_date(tmp_path, state, written):
    """What databases and exports write for "no date" would list the article first or last."""
    state(tmp_path, written)
    corpus = read_corpus([tmp_path])
    assert (corpus.articles[0].date, corpus.articles[0].date_from) == (None, "unknown")
    assert any(written in w and "ignored: no publication date" in w
               for w in corpus.warnings), corpus.warnings


def test_an_html_page_stating_a_placeholder_date_has_its_url_date(tmp_path):
    page = ('<html><head><title>Talks in Minsk</title>'
            '<meta property="article:published_time" content="0001-01-01T00:00:00Z">'
            '<link rel="canonical" href="https://example.com/2020/08/18/talks"></head><body>'
            '<article><h1>Talks in Minsk</h1><p>Leaders met in Minsk on Tuesday to discuss the '
            'crisis, and agreed to meet again within a month, officials said.</p></article>'
            '</body></html>')
    (tmp_path / "talks.html").write_text(page, encoding="utf-8")
    (article,) = read_corpus([tmp_path]).articles
    assert (article.date, article.date_from) == (date(2020, 8, 18), "url")


@pytest.mark.parametrize("written", ["20200818", "2020-W34-2", "August 18, 2020"])
def test_a_manifest_date_must_be_yyyy_mm_dd(tmp_path, written):
    """As its format says; a file's own metadata may also write a date out."""
    stated_in_a_manifest(tmp_path, written)
    corpus = read_corpus([tmp_path])
    assert corpus.articles[0].date is None
    assert any(f"date '{written}' ignored: write it as YYYY-MM-DD" in w
               for w in corpus.warnings), corpus.warnings
    if written[0].isalpha():
        (tmp_path / "manifest.json").unlink()
        (tmp_path / "story.txt").unlink()
        stated_in_front_matter(tmp_path, written)
        assert read_corpus([tmp_path]).articles[0].date == date(2020, 8, 18)


@pytest.mark.parametrize("state", [stated_in_front_matter, stated_in_a_manifest,
                                   stated_in_a_record])
@pytest.mark.parametrize("value, when", [
    (1683280800, date(2023, 5, 5)),  # seconds: 2023-05-05 10:00 UTC
    (1683280800000, date(2023, 5, 5)),  # milliseconds
    (1683280800.5, date(2023, 5, 5)),
    (1683327599, date(2023, 5, 5)),  # 23:59:59 UTC: the UTC date, whatever the local zone
    (100000000, date(1973, 3, 3)),
    # not Unix times: a year, a date written as a number, a string of digits
    (2020, None),
    (20200818, None),
    ("1683280800", None),
])
def test_a_number_stated_as_a_date_is_a_unix_time(tmp_path, state, value, when):
    state(tmp_path, json.dumps(value) if state is stated_in_front_matter else value)
    corpus = read_corpus([tmp_path])
    assert corpus.articles[0].date == when
    refused = [w for w in corpus.warnings if "ignored: write it as YYYY-MM-DD" in w]
    assert bool(refused) == (when is None), corpus.warnings
    if isinstance(value, int) and when is None:
        assert "a number is read as a Unix time" in refused[0]
