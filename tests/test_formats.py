"""Reading real-world input: encodings, YAML front matter, HTML pages, JSON lines, long
paragraphs. Every test writes real files in tmp_path and reads them through the public API."""

import codecs
import json
from datetime import date
from itertools import islice

import pytest
import samples
from conftest import DATA, samples_and

import searchkit
from searchkit.ingest.corpus import ReadOptions, find_files, read_corpus, read_file
from searchkit.errors import CorpusError

RUSSIAN = (
    "Протесты в Минске\n\n"
    "Президент Беларуси Александр Лукашенко заявил, что оппозиция не получит власть.\n\n"
    "Протесты продолжаются в Минске уже вторую неделю, сообщают журналисты.\n"
)
FRENCH = (
    "Le président s’exprime à Paris\n\n"
    "Le président a déclaré mercredi que « la situation était très préoccupante » "
    "et qu’il fallait agir vite.\n\n"
    "Les élèves ont été évacués vers l’école voisine — une décision « prudente ».\n"
)
STORY = (
    "Council meets in Minsk\n\n"
    "The council met on Tuesday to discuss the crisis, and its members agreed on a statement.\n\n"
    "Lithuania welcomed the statement, and Poland asked for more.\n"
)


def read(tmp_path, name, data, manifest_entry=None, **options):
    path = tmp_path / name
    path.write_bytes(data)
    return read_file(path, path.stem, data, manifest_entry, ReadOptions(**options))


def texts(result):
    return [p.text for a in result.articles for p in a.paragraphs]


# ---- encodings --------------------------------------------------------------------------------

def test_utf8_is_read_as_utf8(tmp_path):
    result = read(tmp_path, "a.txt", FRENCH.encode("utf-8"))
    assert (result.encoding, result.encoding_how) == ("utf-8", "utf-8")
    assert result.warnings == []


def test_utf8_with_bom(tmp_path):
    result = read(tmp_path, "a.txt", codecs.BOM_UTF8 + FRENCH.encode("utf-8"))
    assert result.encoding == "utf-8" and "byte order mark" in result.encoding_how
    assert result.articles[0].title == "Le président s’exprime à Paris"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_utf16_and_utf32_with_bom(tmp_path, encoding):
    data = "\ufeff".encode(encoding) + RUSSIAN.encode(encoding)
    result = read(tmp_path, "a.txt", data)
    assert result.encoding == encoding and "byte order mark" in result.encoding_how
    assert result.articles[0].title == "Протесты в Минске"
    assert texts(result)[0].startswith("Президент Беларуси")


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("text", [STORY, RUSSIAN, FRENCH])
def test_utf16_without_bom_is_found_by_its_nul_pattern(tmp_path, encoding, text):
    result = read(tmp_path, "a.txt", text.encode(encoding))
    assert (result.encoding, result.encoding_how) == (
        encoding, "utf-16 without BOM (NUL pattern)"
    )
    assert texts(result) == [part.strip() for part in text.split("\n\n")[1:]]


def test_cp1251_russian(tmp_path):
    result = read(tmp_path, "ru.txt", RUSSIAN.encode("cp1251"))
    assert result.encoding == "cp1251"
    assert "guessed" in result.encoding_how
    assert result.articles[0].title == "Протесты в Минске"
    assert "Лукашенко" in texts(result)[0]


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_western_text_with_accents(tmp_path, encoding):
    text = FRENCH if encoding == "cp1252" else FRENCH.replace("’", "'").replace("—", "-")
    result = read(tmp_path, "fr.txt", text.encode(encoding))
    assert result.encoding == "cp1252"  # the same letters as Latin-1, and the curly quotes
    assert texts(result)[0].startswith("Le président a déclaré mercredi que « la situation")
    assert "guessed" in result.encoding_how


@pytest.mark.parametrize(
    "text, encoding",
    [
        ("Café crème à la française, déjà vu.", "cp1252"),
        ("Grüße aus München – schön!", "cp1252"),
        ("He said “hello” — and left… It’s fine.", "cp1252"),
        ("Привет, мир! Это короткий текст.", "cp1251"),
        ("Zażółć gęślą jaźń, łódź.", "cp1250"),
    ],
)
def test_short_files_get_the_right_guess_and_a_warning(tmp_path, text, encoding):
    """Detectors guess wrong on a line or two (charset-normalizer says cp1250 for the French
    and gives no guess for the Polish): letter statistics decide, and the user is told."""
    result = read(tmp_path, "short.txt", text.encode(encoding))
    assert result.encoding == encoding
    assert result.articles[0].title == text  # one short line: the title
    assert any("encoding guessed as" in w and "--encoding" in w for w in result.warnings)


@pytest.mark.parametrize("corpus", samples_and("bbc"))
def test_a_latin1_file_with_one_pound_sign(tmp_path, corpus):
    """One byte 0xa3 in 2.6 KB (BBC sport/199.txt, and an invented story like it):
    charset-normalizer says Shift-JIS."""
    if corpus == "bbc":
        data = (DATA / "bbc" / "sport" / "199.txt").read_bytes()
    else:
        data = samples.ONE_POUND_SIGN.encode("cp1252")
    result = read(tmp_path, "199.txt", data)
    assert result.encoding == "cp1252"
    assert any("£15.8m" in t for t in texts(result))
    assert "charset-normalizer said cp932" in result.encoding_how


def test_utf8_with_a_few_cp1252_bytes_pasted_in(tmp_path):
    data = FRENCH.encode("utf-8").replace(b"vite.", b"vite \x93tout de suite\x94.")
    result = read(tmp_path, "mixed.txt", data)
    assert (result.encoding, result.encoding_how) == (
        "utf-8", "utf-8 with 2 bytes not UTF-8 read as cp1252"
    )
    assert "agir vite “tout de suite”." in texts(result)[0]
    assert "déclaré" in texts(result)[0]
    assert result.warnings == [
        "2 bytes not UTF-8 in a UTF-8 file read as cp1252; check them, or give the encoding "
        "with --encoding"
    ]


def test_forced_encoding(tmp_path):
    result = read(tmp_path, "ru.txt", RUSSIAN.encode("cp1251"), encoding="cp1251")
    assert (result.encoding, result.encoding_how) == ("cp1251", "forced (--encoding)")
    assert result.warnings == []


def test_forced_wrong_encoding_skips_the_file_saying_why(tmp_path):
    with pytest.raises(CorpusError, match=r"not utf-8: byte 0xcf at offset 0 .*--encoding"):
        read(tmp_path, "ru.txt", RUSSIAN.encode("cp1251"), encoding="utf-8")


def test_an_unknown_encoding_name_is_refused():
    with pytest.raises(CorpusError, match="unknown encoding 'klingon'"):
        ReadOptions(encoding="klingon")


def test_html_declared_charset(tmp_path):
    page = HTML_PAGE.replace('<meta charset="utf-8">', '<meta charset="windows-1251">')
    page = page.replace("The Kremlin said", "Кремль заявил, что")
    result = read(tmp_path, "page.html", page.encode("cp1251"))
    assert (result.encoding, result.encoding_how) == ("cp1251", "declared in the page (<meta>)")
    assert any(t.startswith("Кремль заявил") for t in texts(result))


# ---- long paragraphs --------------------------------------------------------------------------

def test_a_long_paragraph_becomes_bounded_passages_and_nothing_is_lost(tmp_path):
    sentence = "The council met on Tuesday to discuss the crisis in Minsk again. "
    body = (sentence * 6000).strip()  # one paragraph of 72,000 words
    result = read(tmp_path, "long.txt", f"A long one\n\n{body}\n".encode())
    (article,) = result.articles
    passages = article.paragraphs
    assert len(passages) > 150
    assert max(len(p.text.split()) for p in passages) <= 400
    assert all(p.text.endswith("again.") for p in passages)  # cut at sentence ends
    assert [p.number for p in passages] == list(range(1, len(passages) + 1))
    assert {p.kind for p in passages} == {"body"}
    assert " ".join(p.text for p in passages).split() == body.split()
    assert any("split into" in w for w in result.warnings)


def test_a_giant_token_is_cut_hard(tmp_path):
    token = "x" * 20000
    result = read(tmp_path, "token.txt", f"Title\n\nbefore {token} after\n".encode())
    passages = [p.text for p in result.articles[0].paragraphs]
    assert max(len(p) for p in passages) <= 400 * 12
    assert "".join(passages).replace(" ", "") == f"before{token}after"


def test_passage_length_is_an_option(tmp_path):
    body = " ".join(f"w{i}" for i in range(1000))
    result = read(tmp_path, "a.txt", f"Title\n\n{body}\n".encode(), passage_words=100)
    assert [len(p.text.split()) for p in result.articles[0].paragraphs] == [100] * 10


# ---- YAML front matter ------------------------------------------------------------------------

FRONT = """---
title: "EU leaders urge Putin to push for talks"
source: The Moscow Times
date: 2020-08-18
url: https://www.themoscowtimes.com/2020/08/18/eu-leaders-a71180
tags: [belarus, eu]
---
European leaders on Tuesday urged Putin to push for talks in Belarus.

The Kremlin said outside interference was unacceptable.
"""


def test_front_matter_gives_title_source_date_and_url(tmp_path):
    result = read(tmp_path, "fm.md", FRONT.encode())
    (article,) = result.articles
    assert article.title == "EU leaders urge Putin to push for talks"
    assert (article.source, article.source_from) == ("The Moscow Times", "front-matter")
    assert (article.date, article.date_from) == (date(2020, 8, 18), "front-matter")
    assert article.url == "https://www.themoscowtimes.com/2020/08/18/eu-leaders-a71180"
    # The first line is a paragraph, not a title, when the title is known: it is indexed.
    assert texts(result) == [
        "European leaders on Tuesday urged Putin to push for talks in Belarus.",
        "The Kremlin said outside interference was unacceptable.",
    ]
    assert article.blocks[0].line == 8  # line numbers stay the file's
    assert result.warnings == []


def test_front_matter_date_as_text_and_a_repeated_title_line(tmp_path):
    text = (
        "---\ndate: 'Tuesday, August 18, 2020'\ntitle: Talks in Belarus\n---\n"
        "# Talks in Belarus\n\nLeaders met.\n"
    )
    (article,) = read(tmp_path, "fm.md", text.encode()).articles
    assert (article.date, article.title) == (date(2020, 8, 18), "Talks in Belarus")
    assert [b.kind for b in article.blocks] == ["headline", "body"]


def test_manifest_beats_front_matter_which_beats_the_text(tmp_path):
    (tmp_path / "fm.md").write_text(FRONT.replace("---\nEuropean", "---\nBy Jane Doe for AFP\n"
                                                  "European"), encoding="utf-8")
    (tmp_path / "manifest.json").write_text(json.dumps({"fm.md": {"source": "AFP wire"}}))
    (article,) = read_corpus([tmp_path]).articles
    assert (article.source, article.source_from) == ("AFP wire", "manifest")
    assert article.date_from == "front-matter"


def test_malformed_front_matter_is_a_warning_and_stays_text(tmp_path):
    text = "---\ntitle: [unclosed\nsource: AFP\n---\nA story line that is long enough.\n"
    result = read(tmp_path, "bad.md", text.encode())
    assert any("front matter is not valid YAML" in w and w.endswith("read as text")
               for w in result.warnings)
    (article,) = result.articles
    blocks = [b.text for b in article.blocks]
    assert "title: [unclosed" in blocks and "A story line that is long enough." in blocks
    assert "---" not in blocks and article.title == "title: [unclosed"  # (its first line)
    assert [b.line for b in article.blocks] == [2, 3, 5]  # the file's


def test_front_matter_yaml_refuses_for_a_colon_is_read_line_by_line(tmp_path):
    text = ("---\ntitle: Putin: the interview\nsource: 'Interfax'\n# a comment\n"
            "date: 2020-08-18\n---\n\nThe kinkajou spoke at length.\n")
    result = read(tmp_path, "fm.md", text.encode())
    assert result.warnings == [
        "front matter is not valid YAML (line 2): mapping values are not allowed here; "
        "read line by line as key: value"]
    (article,) = result.articles
    assert (article.title, article.source, article.date) == (
        "Putin: the interview", "Interfax", date(2020, 8, 18))
    assert (article.source_from, article.date_from) == ("front-matter", "front-matter")
    assert [(b.text, b.line) for b in article.blocks] == [
        ("The kinkajou spoke at length.", 8)]


def test_a_file_of_front_matter_only_is_skipped(tmp_path):
    with pytest.raises(CorpusError, match="only front matter, no article text"):
        read(tmp_path, "fm.md", b"---\ntitle: Nothing else\n---\n\n")


def test_bad_front_matter_values_are_warned_about_and_ignored(tmp_path):
    text = "---\ndate: next week\nurl: not-a-url\nsource: [a, b]\n---\nTitle\n\nBody text.\n"
    result = read(tmp_path, "v.md", text.encode())
    assert len(result.warnings) == 3
    assert result.articles[0].date is None and result.articles[0].date_from == "unknown"


# ---- Markdown ---------------------------------------------------------------------------------

HARVEST = """# Harvest report

Farmers said the harvest was the worst in a decade after months without rain.

| Crop | 2023 | 2024 |
|:-----|-----:|-----:|
| **Wheat** | 4.1 | 2.7 |
| Barley \\| oats | 1.9 | |

> The drought is the worst we have seen, said the minister.
>
> > Aid will follow next week, she added.

```python
print("yield per hectare")

x = 1
```

Officials promised aid to the worst-hit regions.
"""


def test_markdown_tables_code_and_quotes_are_read_as_text(tmp_path):
    result = read(tmp_path, "harvest.md", HARVEST.encode())
    (article,) = result.articles
    assert article.title == "Harvest report"
    assert [(b.kind, b.text, b.line) for b in article.blocks[1:]] == [
        ("body", "Farmers said the harvest was the worst in a decade after months without rain.",
         3),
        ("body", "Crop; 2023; 2024", 5),
        ("body", "Wheat; 4.1; 2.7", 7),
        ("body", "Barley | oats; 1.9", 8),
        ("body", "The drought is the worst we have seen, said the minister.", 10),
        ("body", "Aid will follow next week, she added.", 12),
        ("body", 'print("yield per hectare") x = 1', 15),
        ("body", "Officials promised aid to the worst-hit regions.", 20),
    ]
    # In a .txt file a "|" or ">" line may be text: it is read as it is written.
    paragraphs = texts(read(tmp_path, "harvest.txt", HARVEST.encode()))
    assert "| Crop | 2023 | 2024 |" in paragraphs
    assert "> The drought is the worst we have seen, said the minister." in paragraphs


def test_a_wire_storys_credits_are_no_paragraphs(tmp_path):
    """They end most of an agency's stories alike: indexed, they made near-duplicates of
    unrelated stories."""
    lines = ["Reporting by Andrei Makhovsky; Additional reporting by Anna Ringstrom in "
             "Stockholm; Editing by Gareth Jones",
             "(Reporting by Jane Doe; editing by John Smith)",
             "Writing by Jane Doe and John Smith, editing by Alex Richardson.",
             "Reporting by the BBC revealed that the minister had misled parliament.",
             "Editing by hand is slow, said Jane Doe."]
    text = "Ferry strike ends\n\nThe strike ended on Monday.\n\n" + "\n\n".join(lines) + "\n"
    (article,) = read(tmp_path, "strike.txt", text.encode()).articles
    assert [(b.kind, b.text) for b in article.blocks[2:]] == [
        ("credit", lines[0]), ("credit", lines[1]), ("credit", lines[2]),
        ("body", lines[3]), ("body", lines[4])]


# ---- HTML -------------------------------------------------------------------------------------

HTML_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>EU leaders urge Putin to push for talks in Belarus | The Daily Example</title>
<meta property="og:site_name" content="The Daily Example">
<meta property="og:title" content="EU leaders urge Putin to push for talks in Belarus">
<meta property="article:published_time" content="2020-08-18T10:31:00+03:00">
<link rel="canonical" href="https://news.example.com/world/eu-leaders-urge-putin">
</head>
<body>
<header><nav><ul>
<li><a href="/">Home</a></li><li><a href="/world">World</a></li>
<li><a href="/subscribe">Subscribe to our newsletter</a></li>
</ul></nav></header>
<main><article>
<h1>EU leaders urge Putin to push for talks in Belarus</h1>
<p>European leaders on Tuesday urged Russian President Vladimir Putin to encourage dialogue
between the Belarusian authorities and the opposition, as protests entered their second week.</p>
<p>French President Emmanuel Macron called on Putin to facilitate calm and dialogue, while
German Chancellor Angela Merkel stressed that Minsk should renounce violence.</p>
<p>Photos taken on August 9, 2020 show crowds in the centre of Minsk; the opposition says
more than 200,000 people marched on Sunday.</p>
<p>The Kremlin said Putin had told both leaders that outside interference in the affairs of
Belarus was unacceptable and would lead to an escalation of the crisis.</p>
</article></main>
<footer><p>Copyright 2020 The Daily Example. All rights reserved.</p>
<p>Privacy policy | Cookie settings | Contact us</p></footer>
</body>
</html>
"""


def test_html_article_page(tmp_path):
    result = read(tmp_path, "page.html", HTML_PAGE.encode())
    (article,) = result.articles
    assert article.title == "EU leaders urge Putin to push for talks in Belarus"
    assert (article.source, article.source_from) == ("The Daily Example", "html-metadata")
    assert (article.date, article.date_from) == (date(2020, 8, 18), "html-metadata")
    assert article.url == "https://news.example.com/world/eu-leaders-urge-putin"
    paragraphs = texts(result)
    assert len(paragraphs) == 4
    assert paragraphs[0].startswith("European leaders on Tuesday urged")
    everything = " ".join(b.text for b in article.blocks)
    for boilerplate in ("Subscribe", "Home", "Copyright", "Privacy", "Cookie"):
        assert boilerplate not in everything


def test_html_date_is_never_guessed_from_the_text(tmp_path):
    """trafilatura (htmldate), even with extensive_search=False, returns 2019-08-09 here."""
    page = HTML_PAGE.replace(
        '<meta property="article:published_time" content="2020-08-18T10:31:00+03:00">', ""
    ).replace("<p>The Kremlin", "<p>Last year, on 2019-08-09, a similar march took place in "
                                "Minsk.</p>\n<p>The Kremlin")
    result = read(tmp_path, "page.html", page.encode())
    (article,) = result.articles
    assert any(t.startswith("Last year, on 2019-08-09") for t in texts(result))
    assert (article.date, article.date_from) == (None, "unknown")


def test_html_date_from_json_ld_and_source_from_the_url(tmp_path):
    page = (
        HTML_PAGE.replace('<meta property="article:published_time" '
                          'content="2020-08-18T10:31:00+03:00">',
                          '<script type="application/ld+json">{"@context": "https://schema.org",'
                          ' "@graph": [{"@type": "NewsArticle", "datePublished": "2020-08-19"}]}'
                          "</script>")
        .replace('<meta property="og:site_name" content="The Daily Example">', "")
        .replace(" | The Daily Example", "")
    )
    (article,) = read(tmp_path, "page.html", page.encode()).articles
    assert (article.date, article.date_from) == (date(2020, 8, 19), "html-metadata")
    assert (article.source, article.source_from) == ("news.example.com", "url")



def test_html_date_of_the_article_not_of_a_video_on_its_page(tmp_path):
    """A news page's JSON-LD dates its embedded video (or picture) too, often first."""
    video = ('{"@type": "VideoObject", "name": "Archive: the march of 2019", '
             '"datePublished": "2019-03-01"}')
    article = '{"@type": ["schema:NewsArticle"], "datePublished": "2020-08-19"}'
    for ld in (f"{video}</script><script type='application/ld+json'>{article}",
               f'{{"@graph": [{video}, {article}]}}'):
        page = HTML_PAGE.replace('<meta property="article:published_time" '
                                 'content="2020-08-18T10:31:00+03:00">',
                                 f'<script type="application/ld+json">{ld}</script>')
        (found,) = read(tmp_path, "page.html", page.encode()).articles
        assert (found.date, found.date_from) == (date(2020, 8, 19), "html-metadata")
    alone = HTML_PAGE.replace('<meta property="article:published_time" '
                              'content="2020-08-18T10:31:00+03:00">',
                              f'<script type="application/ld+json">{video}</script>')
    (found,) = read(tmp_path, "page.html", alone.encode()).articles  # a video's page
    assert found.date == date(2019, 3, 1)


def test_html_page_without_article_text_is_skipped(tmp_path):
    page = (
        "<html><head><title>Menu</title></head>"
        "<body><nav><a href='/'>Home</a></nav></body></html>"
    )
    with pytest.raises(CorpusError, match="no article text found in this HTML page"):
        read(tmp_path, "menu.html", page.encode())


STATEMENT = ("The council met on Tuesday to discuss the crisis, and its members agreed on a "
             "statement read by the chair.")
FALLBACK = ("no main text found in this HTML page (nested too deep, or unclosed?); its visible "
            "text was indexed instead")


@pytest.mark.parametrize("page", [
    # nested deeper than lxml goes (256 levels): trafilatura sees an empty page
    "<html><head><title>Deep</title><script>var hidden = 'script words';</script>"
    "<style>p { color: red }</style></head><body>" + "<div>" * 10_000 +
    f"<p>{STATEMENT}</p><p>Poland <b>asked</b> for more.</p>" + "</div>" * 10_000 +
    "</body></html>",
    "<title>Deep</title>" + "<span><b>" * 10_000 + f"{STATEMENT}\n\nPoland <b>asked</b> for more.",
    # unclosed: the text sits where trafilatura looks for no article
    f"<html><head><title>Deep</title><body><form>{STATEMENT}\n\nPoland asked for more.",
    f"<html><title>Deep</title><body><textarea>{STATEMENT}<p>Poland asked for more.",
])
def test_html_the_extractor_cannot_read_falls_back_to_the_visible_text(tmp_path, page):
    result = read(tmp_path, "page.html", page.encode())
    assert texts(result) == [STATEMENT, "Poland asked for more."]  # no script or style
    assert result.articles[0].title == "Deep"
    assert result.warnings == [FALLBACK]


def briefs(*stories):
    return "".join(f"<article><h2>{headline}</h2>" + "".join(f"<p>{p}</p>" for p in paragraphs)
                   + "</article>" for headline, paragraphs in stories)


WHEAT = ("Wheat prices climb", [
    "Wheat futures rose sharply on Tuesday as forecasters warned the drought could last into "
    "the harvest.",
    "Traders said stocks held by exporters were at their lowest level in nine years.",
    "Millers in the region said they would pass the higher costs on to bakers before the end "
    "of the month.",
])
STATUES = ("Museum returns statues", [
    "The national museum handed back twelve bronze statues taken from a royal palace more than "
    "a century ago.",
    "Curators spent three years tracing the provenance of every piece.",
])
WALKOUT = ("Rail union calls off walkout", [
    "The rail union called off a planned weekend walkout after the operator offered to reopen "
    "talks on staffing.",
])


def test_html_page_of_several_articles_keeps_every_one(tmp_path):
    """trafilatura takes the first <article>: the others were lost when it was long enough."""
    teasers = briefs(("More from the desk", ["Subscribers read our weekly market letter."]),
                     ("Also in the news", ["Sign up for alerts about the rail network."]))
    page = ("<html><head><meta charset=utf-8><title>Briefing</title></head><body>"
            "<nav><a href=/>Home</a> <a href=/news>News</a></nav>"
            f"<main>{briefs(WHEAT, STATUES, WALKOUT)}</main><aside>{teasers}</aside>"
            "<footer><p>Copyright 2024 The Daily Example. All rights reserved.</p></footer>"
            "</body></html>")
    result = read(tmp_path, "briefing.html", page.encode())
    (article,) = result.articles  # one article per page, as for any page
    stories = [text for _, paragraphs in (WHEAT, STATUES, WALKOUT) for text in paragraphs]
    assert [t for t in texts(result) if t in stories] == stories  # all, in the page's order
    everything = " ".join(b.text for b in article.blocks)
    assert "Rail union calls off walkout" in everything  # (a sub-heading of the page)
    for left_out in ("Home", "Copyright", "Subscribers", "Sign up"):
        assert left_out not in everything
    assert result.warnings == []


def test_html_tables_are_read_as_rows_of_cells(tmp_path):
    """trafilatura writes a table as Markdown's rows: a row of cells each, no delimiter row."""
    page = ("<html><head><title>Election results in the north</title></head><body><article>"
            "<h1>Election results in the north</h1>"
            "<p>The count finished late on Sunday night after a long day of voting across the "
            "region, officials said.</p>"
            "<table><tr><th>Party</th><th>Votes</th><th>Seats</th></tr>"
            "<tr><td>Northern Alliance</td><td>120,400</td><td>12</td></tr>"
            "<tr><td>Green Coast</td><td>98,000</td><td>9</td></tr></table>"
            "<p>Turnout was higher than at the last election, at 64 percent of registered "
            "voters.</p><p>| A line of text that starts with a bar is text.</p>"
            "</article></body></html>")
    result = read(tmp_path, "results.html", page.encode())
    assert texts(result) == [
        "The count finished late on Sunday night after a long day of voting across the region, "
        "officials said.",
        "Party; Votes; Seats", "Northern Alliance; 120,400; 12", "Green Coast; 98,000; 9",
        "Turnout was higher than at the last election, at 64 percent of registered voters.",
        "| A line of text that starts with a bar is text.",
    ]


# ---- JSON lines -------------------------------------------------------------------------------

def jsonl(*records):
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records).encode()


def test_jsonl_recognised_names(tmp_path):
    data = jsonl(
        {"_id": "a1", "title": "First", "text": "One.\nTwo.", "date": "2020-08-18",
         "source": "AFP", "url": "https://example.com/a1"},
        {"id": 7, "title": "Second", "maintext": "Three.", "date_publish": "2020-08-19 10:31:00",
         "source_domain": "example.org"},
        {"text": "No id, no title."},
    )
    result = read(tmp_path, "news.jsonl", data)
    first, second, third = result.articles
    assert (first.id, first.title, first.source, first.date, first.url) == (
        "news:a1", "First", "AFP", date(2020, 8, 18), "https://example.com/a1"
    )
    assert (first.source_from, first.date_from) == ("record", "record")
    assert [p.text for p in first.paragraphs] == ["One.", "Two."]
    assert (second.id, second.source, second.date) == ("news:7", "example.org", date(2020, 8, 19))
    assert (third.id, third.title, third.date, third.source_from) == (
        "news:3", "news:3", None, "unknown"
    )
    assert result.warnings == []


def test_jsonl_records_do_not_take_the_date_in_the_file_name(tmp_path):
    data = jsonl({"text": "Undated."}, {"text": "Dated in its URL.",
                                       "url": "https://example.com/2020/08/18/story"})
    undated, dated = read(tmp_path, "dump-2021-05-01.jsonl", data).articles
    assert (undated.date, undated.date_from) == (None, "unknown")
    assert (dated.date, dated.date_from) == (date(2020, 8, 18), "url")


def test_jsonl_field_mapping(tmp_path):
    data = jsonl({"key": "x", "headline": "Mapped", "body": "Body text.", "published_at":
                  "2021-01-02T00:00:00Z", "text": "not this"})
    options = dict(fields={"text": "body", "title": "headline", "date": "published_at",
                           "id": "key"})
    (article,) = read(tmp_path, "m.jsonl", data, **options).articles
    assert (article.id, article.title, article.date) == ("m:x", "Mapped", date(2021, 1, 2))
    assert [p.text for p in article.paragraphs] == ["Body text."]


def test_an_unknown_field_in_the_mapping_is_refused():
    with pytest.raises(CorpusError, match="unknown field 'body'.*--field"):
        ReadOptions(fields={"body": "text"})


def test_jsonl_bad_lines_are_warnings_and_the_rest_is_read(tmp_path):
    data = jsonl(
        {"_id": "1", "text": "Good one."},
        "{not json",
        "",
        "[1, 2]",
        {"_id": "4", "title": "No text here"},
        {"_id": "1", "text": "Same id again."},
        {"_id": "6", "text": "Bad date.", "date": "soon"},
    )
    result = read(tmp_path, "b.jsonl", data)
    assert [a.id for a in result.articles] == ["b:1", "b:1@6", "b:6"]
    assert result.warnings[:3] == [
        "line 2: not valid JSON (Expecting property name enclosed in double quotes); line skipped",
        "line 4: a JSON list, not an object; line skipped",
        "line 5: no text (looked for 'text' or 'maintext'); line skipped",
    ]
    assert any(w.startswith("line 6: id '1' already used on line 1") for w in result.warnings)
    assert any(w.startswith("line 7: date 'soon' ignored") for w in result.warnings)


def test_a_jsonl_file_without_a_usable_line_is_skipped(tmp_path):
    with pytest.raises(CorpusError, match="no usable JSON-lines record.*line 1: not valid JSON"):
        read(tmp_path, "x.jsonl", b"{oops\n[]\n")


def test_manifest_values_are_defaults_for_jsonl_records(tmp_path):
    (tmp_path / "n.jsonl").write_bytes(jsonl(
        {"text": "Has its own source.", "source": "Reuters"}, {"text": "Has none."}
    ))
    (tmp_path / "manifest.json").write_text(json.dumps(
        {"n.jsonl": {"source": "AFP", "date": "2020-08-18", "title": "ignored"}}
    ))
    own, default = read_corpus([tmp_path]).articles
    assert (own.source, own.source_from) == ("Reuters", "record")
    assert (default.source, default.source_from) == ("AFP", "manifest")
    assert (own.date_from, default.title) == ("manifest", "n:2")


def abstracts(tmp_path, source):
    """A folder with corpus.jsonl: the invented abstracts or SciFact's first 50; its records."""
    folder = tmp_path / "abstracts"
    folder.mkdir()
    if source == "samples":
        samples.write_abstracts(folder / "corpus.jsonl")
        return folder, samples.ABSTRACTS
    with (DATA / "scifact" / "corpus.jsonl").open(encoding="utf-8") as lines:
        head = list(islice(lines, 50))
    (folder / "corpus.jsonl").write_text("".join(head), encoding="utf-8")
    return folder, [json.loads(line) for line in head]


@pytest.mark.parametrize("source", samples_and("scifact"))
def test_abstracts_are_read_with_ids_and_titles(tmp_path, source):
    folder, records = abstracts(tmp_path, source)
    corpus = read_corpus([folder])
    assert (corpus.files, len(corpus.articles), corpus.skipped) == (1, len(records), [])
    assert [a.id for a in corpus.articles] == [f"corpus:{r['_id']}" for r in records]
    assert [a.title for a in corpus.articles] == [r["title"] for r in records]
    for article, record in zip(corpus.articles, records):
        assert " ".join(p.text for p in article.paragraphs).split() == record["text"].split()


@pytest.mark.parametrize("source", samples_and("scifact"))
def test_abstracts_titles_are_searchable(tmp_path, source):
    folder, records = abstracts(tmp_path, source)
    searchkit.build_index([folder], tmp_path / "ix")
    record = records[0]
    found = searchkit.search(f'title:"{" ".join(record["title"].split()[:4])}"',
                             tmp_path / "ix", collapse=False)
    assert found.hits and {h.article_id for h in found.hits} == {f"corpus:{record['_id']}"}


def test_all_formats_are_found_in_a_folder(tmp_path):
    for name in ("a.txt", "b.md", "c.markdown", "d.html", "e.htm", "f.jsonl", "g.json", "h.pdf"):
        (tmp_path / name).write_text("x")
    files, skipped = find_files([tmp_path])
    assert [file.key for file in files] == ["a", "b", "c", "d", "e", "f"]
    assert skipped == []


def test_files_found_in_the_working_folder_are_named_as_paths_write_them(tmp_path, monkeypatch):
    """A walk of "." gives "a.txt" and "sub/b.md", as a Path would write them, not "./a.txt":
    the names a build reports its files by."""
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "a.txt").write_text(STORY)
    (corpus / "sub" / "b.md").write_text(STORY)
    monkeypatch.chdir(corpus)
    files, _ = find_files(["."])
    assert [file.path for file in files] == ["a.txt", "sub/b.md"]
    summary = searchkit.build_index(["."], tmp_path / "ix")
    assert sorted(action.path for action in summary.file_actions) == ["a.txt", "sub/b.md"]


def test_same_name_with_two_suffixes_gets_two_keys(tmp_path):
    (tmp_path / "story.txt").write_text(STORY)
    (tmp_path / "story.html").write_text(HTML_PAGE)
    corpus = read_corpus([tmp_path])
    assert sorted(a.id for a in corpus.articles) == ["story", "story.txt"]


def test_a_file_of_one_line_is_searchable_by_it(tmp_path):
    path = tmp_path / "short.txt"
    path.write_bytes("Привет, мир! Это короткий текст.\n".encode("cp1251"))
    (article,) = read_file(path, "short", path.read_bytes(), None, ReadOptions()).articles
    assert article.title == "Привет, мир! Это короткий текст."
    assert [(p.id, p.kind, p.text) for p in article.paragraphs] == [
        ("short#1", "body", "Привет, мир! Это короткий текст.")]
