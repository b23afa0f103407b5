"""`searchkit serve`'s pages and JSON API through Starlette's test client, on invented articles
(tests/websamples.py) that reprint a wire paragraph and try to run script; and the command
itself, started for real on a free port."""

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from urllib.parse import quote, urljoin

import pytest
import websamples
from conftest import invoke

import searchkit
from searchkit import web

if web.missing():
    pytest.skip(f"needs the web extra: {web.INSTALL}", allow_module_level=True)
pytest.importorskip("httpx2", reason="Starlette's test client needs httpx2 (the test extra)")

from starlette.testclient import TestClient  # noqa: E402

from searchkit.web import pages  # noqa: E402
from searchkit.web.app import create_app  # noqa: E402
from searchkit.web.local import is_loopback  # noqa: E402
from searchkit.model import replace  # noqa: E402

WIRE_ID = "harbour:w1#1"
HOSTILE_ID = "harbour:h1"


@pytest.fixture(scope="module")
def web_index(tmp_path_factory):
    folder = tmp_path_factory.mktemp("web")
    index_dir = folder / "index"
    searchkit.build_index([websamples.write_corpus(folder / "articles")], index_dir)
    return index_dir


@pytest.fixture(scope="module")
def client(web_index):
    with TestClient(create_app(web_index)) as opened:
        yield opened


class Page(HTMLParser):
    """What a page would make a browser run or fetch: script elements, event-handler
    attributes, links and the text of elements by tag."""

    def __init__(self, html):
        super().__init__()
        self.scripts, self.handlers, self.hrefs, self.tags = [], [], [], []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self.scripts.append(dict(attrs).get("src"))
        self.handlers += [name for name, _ in attrs if name.startswith("on")]
        self.hrefs += [value for name, value in attrs if name in ("href", "src", "action")]

    def with_tag(self, tag):
        return [attrs for name, attrs in self.tags if name == tag]


def assert_inert(html):
    """Only searchkit's own script, no event handler, no javascript: or outside address."""
    page = Page(html)
    assert page.scripts == ["/static/searchkit.js"]
    assert page.handlers == []
    assert all(v.startswith(("/", "#", "http://", "https://")) for v in page.hrefs), page.hrefs
    assert not any("javascript:" in v.lower() for v in page.hrefs)
    return page


def test_the_search_page_highlights_and_offers_facets(client):
    answer = client.get("/", params={"q": "northern harbour"})
    assert answer.status_code == 200
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert "<mark>harbour</mark>" in answer.text and "<mark>northern</mark>" in answer.text
    page = assert_inert(answer.text)
    links = [attrs["href"] for attrs in page.with_tag("a")]
    assert "/?q=northern+harbour&source=Coastal+Daily" in links
    assert "/?q=northern+harbour&since=2021-04&until=2021-04" in links
    assert "/article/harbour:w1?p=1#p1" in links  # the wire paragraph, first printed
    assert re.search(r"also in 2 others</summary>", answer.text)
    assert "results (" in answer.text  # the count line of the command line


def test_a_clicked_facet_narrows_and_can_be_removed(client):
    answer = client.get("/?q=northern+harbour&source=Coastal+Daily")
    page = Page(answer.text)
    metas = re.findall(r'<p class="meta">([^<·]+)·', answer.text)
    assert metas and all(m.strip() == "Coastal Daily" for m in metas)
    removals = [a["href"] for a in page.with_tag("a") if a.get("title") == "remove this filter"]
    assert removals == ["/?q=northern+harbour"]
    kept = [a for a in page.with_tag("input") if a.get("name") == "source"]
    assert kept == [{"type": "hidden", "name": "source", "value": "Coastal Daily"}]


def test_a_month_clicked_is_one_filter_removed_by_one_click(client):
    month = Page(client.get("/?q=harbour").text).with_tag("a")
    href = [a["href"] for a in month if a["href"].endswith("since=2021-04&until=2021-04")][0]
    answer = client.get(href)
    removals = [(a["href"]) for a in Page(answer.text).with_tag("a")
                if a.get("title") == "remove this filter"]
    assert removals == ["/?q=harbour"] and "date: 2021-04" in answer.text


def test_a_source_written_in_other_letters_is_the_one_chosen(client):
    """A link typed by hand: the search takes "coastal daily" for Coastal Daily, and so does
    its facet, which does not offer to add the same source again."""
    answer = client.get("/?q=northern+harbour&source=coastal+daily")
    assert answer.status_code == 200 and "<strong>Coastal Daily</strong>" in answer.text
    assert not [a for a in Page(answer.text).with_tag("a") if "Coastal+Daily" in a["href"]]


def test_the_url_holds_dates_kind_sort_and_pages(client):
    answer = client.get("/?q=harbour&since=2021-04&sort=-date&n=2")
    assert answer.status_code == 200
    dates = re.findall(r'<p class="meta">[^·]+· (\d{4}-\d\d-\d\d)', answer.text)
    assert dates == sorted(dates, reverse=True) and dates[0] == "2021-04-20"
    assert 'href="/?q=harbour&amp;since=2021-04&amp;sort=-date&amp;n=2&amp;page=2"' in answer.text
    second = client.get("/?q=harbour&since=2021-04&sort=-date&n=2&page=2")
    assert 'start="3"' in second.text and "page 2 of" in second.text
    captions = client.get("/?q=harbour&kind=caption")  # the articles have no photo captions
    assert "no paragraphs match" in captions.text and "kind: caption" in captions.text


def test_past_the_last_page_previous_leads_to_the_last_one(client):
    last = client.get("/?q=harbour&n=2").text
    pages = int(re.search(r"page 1 of (\d+)", last).group(1))
    assert pages > 1
    answer = client.get("/?q=harbour&n=2&page=500")
    assert answer.status_code == 200 and "page 500 is empty" in answer.text
    assert f'href="/?q=harbour&amp;n=2&amp;page={pages}" rel="prev"' in answer.text


def test_notes_are_on_the_page(client):
    answer = client.get("/?q=harbor")  # no such word: a spelling the corpus has is offered
    assert answer.status_code == 200
    assert 'Did you mean <a href="/?q=harbour">harbour</a>?' in answer.text
    notes = re.findall(r"<li>(note: [^<]*)</li>", client.get("/?q=Kowalczyk").text)
    assert notes == ["note: also searched for kowalcyk (spellings close to Kowalczyk)"]
    assert client.get("/?q=Kowalczyk&exact=1").text.count("note: ") == 0
    notes = re.findall(r"<li>(note: [^<]*)</li>", client.get("/?q=harbour&since=2021-04").text)
    assert notes == ["note: 1 matching paragraph has no date and was left out by the date "
                     "filter"]


def test_script_in_an_article_is_shown_as_text(client):
    for url in ("/?q=harbour+talks", f"/article/{HOSTILE_ID}?p=1", "/reuse", "/"):
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert_inert(answer.text)
        assert "<script>window" not in answer.text and "<img src=x" not in answer.text
    article = client.get(f"/article/{HOSTILE_ID}?p=1").text
    assert "&lt;script&gt;window.__pwned = &#39;paragraph&#39;" in article
    assert "&lt;img src=x onerror=&#34;window.__pwned = &#39;img&#39;&#34;&gt;" in article
    assert "&lt;a href=&#34;javascript:window.__pwned = &#39;link&#39;&#34;&gt;" in article
    assert "Night &lt;b onmouseover=" in article


def test_an_article_url_is_a_link_only_when_it_is_a_web_address(searcher_of):
    view = searcher_of.show(WIRE_ID)
    web_address = "https://example.org/a"
    for url, link in (("javascript:alert(1)", None), (web_address, web_address),
                      ("JaVaScRiPt:alert(1)", None), ("data:text/html,x", None)):
        shown = pages.article_page(replace(view, url=url), {}, True)
        assert shown["link"] == link


@pytest.fixture(scope="module")
def searcher_of(web_index):
    with searchkit.open_index(web_index) as opened:
        yield opened


def test_the_article_page_numbers_marks_and_tells_provenance(client):
    answer = client.get("/article/harbour:c1?p=2")
    page = Page(answer.text)
    items = page.with_tag("li")
    numbered = [a for a in items if a.get("id", "").startswith("p")]
    assert [a["value"] for a in numbered] == ["1", "2", "3"]
    assert [a["id"] for a in numbered if a.get("aria-current") == "true"] == ["p2"]
    assert "Coastal Daily <span class=\"how\">(from record)</span>" in answer.text
    assert "2021-03-03 <span class=\"how\">(from record)</span>" in answer.text
    # Paragraph 2 (the wire) and 3 (the harbour master) were printed elsewhere too.
    links = [a["href"] for a in page.with_tag("a")]
    assert "/article/harbour:w1?p=1#p1" in links and "/article/harbour:e1?p=1#p1" in links
    assert "/article/harbour:w1?p=2#p2" in links
    assert answer.text.count("also in 2 others") == 1 and answer.text.count("also in 1 other<") == 1


def test_an_article_id_with_a_hash_reaches_its_paragraph(client):
    answer = client.get("/article/" + quote(WIRE_ID, safe=":"))
    assert answer.status_code == 200 and 'id="p1" value="1" class="marked"' in answer.text


def test_an_article_named_like_a_paragraph_lists_its_own_reprints(tmp_path):
    """story#12.txt is article "story#12", and "story#12" is also story.txt's paragraph 12."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    quote_line = "The northern pier reopened to ferries after divers checked every pillar."
    (corpus / "story.txt").write_text(
        "Story\n\n" + "\n\n".join(f"Paragraph {n} of the long story." for n in range(1, 14)))
    (corpus / "story#12.txt").write_text(f"Pier\n\n{quote_line}\n")
    (corpus / "copy.txt").write_text(f"Copy\n\n{quote_line}\n")
    searchkit.build_index([corpus], tmp_path / "index")
    with TestClient(create_app(tmp_path / "index")) as client:
        page = client.get("/article/" + quote("story#12", safe=""), params={"p": 1})
    assert page.status_code == 200 and "divers checked every pillar" in page.text
    assert 'href="/article/copy?p=1#p1"' in page.text  # its paragraph's other place


def test_an_article_whose_paragraphs_appeared_in_too_many_places_lists_the_marked_ones(
        tmp_path, monkeypatch):
    from searchkit.web import app

    lines = [f"Market line {k} says the index closed {k} points higher on the day in busy "
             "trade." for k in range(3)]
    (tmp_path / "corpus").mkdir()
    for name in ("dump", "copy"):
        (tmp_path / "corpus" / f"{name}.txt").write_text(
            name.title() + "\n\n" + "\n\n".join(lines) + "\n")
    searchkit.build_index([tmp_path / "corpus"], tmp_path / "index")
    with TestClient(create_app(tmp_path / "index")) as client:
        assert client.get("/article/dump").text.count('<details class="also"') == 3
        monkeypatch.setattr(app, "MAX_PLACES_LISTED", 2)  # three places: too many
        page = client.get("/article/dump", params={"p": 2}).text
    assert page.count('<details class="also"') == 1 and 'href="/article/copy?p=2#p2"' in page
    assert "appeared in too many other places to list" in page


def test_ids_with_dot_segments_are_linked_so_a_browser_reaches_them(tmp_path):
    """A record's id is any text; a browser resolves "../" in a link before asking."""
    ids = ["../../etc/passwd", "./x", "a/./b/../c"]
    records = [{"id": name, "text": f"The pier number {n} closed."} for n, name in enumerate(ids)]
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "ids.jsonl").write_text(
        "\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    searchkit.build_index([tmp_path / "odd"], tmp_path / "index")
    with TestClient(create_app(tmp_path / "index")) as client:
        page = Page(client.get("/?q=pier").text)
        links = {a["href"] for a in page.with_tag("a") if a["href"].startswith("/article/")}
        reached = set()
        for link in links:
            answer = client.get(urljoin("http://127.0.0.1/?q=pier", link))  # as a browser does
            assert answer.status_code == 200, link
            reached |= set(re.findall(r"<dd><code>ids:([^<]*)</code></dd>", answer.text))
    assert reached == set(ids)


def test_a_source_facet_links_only_to_a_search_that_can_be_asked(tmp_path):
    """A source holding a control character (shown as its sign) cannot be asked for in a URL:
    it is listed, not linked to a search the page would refuse."""
    records = [{"source": source, "text": "The pier closed at noon."}
               for source in ("Bell\u0007 Wire", "Plain Wire")]
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "sources.jsonl").write_text(
        "\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    searchkit.build_index([tmp_path / "odd"], tmp_path / "index")
    with TestClient(create_app(tmp_path / "index")) as client:
        html = client.get("/?q=pier").text
        assert "<li>Bell\u2407 Wire <span" in html and "\x07" not in html
        links = [a["href"] for a in Page(html).with_tag("a") if "source=" in a["href"]]
        assert links == ["/?q=pier&source=Plain+Wire"]
        assert client.get(links[0]).status_code == 200


def test_the_reuse_page_tells_each_group_as_a_timeline(client):
    answer = client.get("/reuse")
    assert answer.status_code == 200
    groups = re.findall(r'<section class="group".*?</section>', answer.text, re.S)
    assert len(groups) == 2
    first = groups[0]
    assert "3 printings in 3 sources" in first
    order = re.findall(r'<span class="when">([^<]+)</span>', first)
    assert order == ["2021-03-02", "2021-03-03", "2021-04-10"]
    assert "first printed by" in first and "exact copy" in first and "edited" in first
    assert client.get("/reuse?min=3").text.count('<section class="group"') == 1


def test_the_reuse_page_counts_no_unknown_source_as_a_source(tmp_path):
    records = [{"id": f"r{n}", "text": "The pier closed at noon after the storm.", **extra}
               for n, extra in enumerate([{}, {}, {"source": "Pier Post"}])]
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "reprints.jsonl").write_text(
        "\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    searchkit.build_index([tmp_path / "odd"], tmp_path / "index")
    with TestClient(create_app(tmp_path / "index")) as client:
        assert ">3 printings in 1 source and 2 of unknown source</h2>" in client.get("/reuse").text
        (tmp_path / "odd" / "reprints.jsonl").write_text(
            "\n".join(json.dumps(r) for r in records[:2]) + "\n", encoding="utf-8")
        searchkit.build_index([tmp_path / "odd"], tmp_path / "index", prune=True)
        assert ">2 printings, 2 of unknown source</h2>" in client.get("/reuse").text


def test_the_api_gives_the_records_of_the_command_line(client, web_index):
    cli = invoke("search", "northern harbour", "--index", web_index, "--format", "jsonl",
                 "--facets")
    api = client.get("/api/search", params={"q": "northern harbour", "format": "jsonl"})
    assert api.status_code == 200 and api.text == cli.stdout
    whole = client.get("/api/search", params={"q": "northern harbour"}).json()
    cli_json = json.loads(invoke("search", "northern harbour", "--index", web_index,
                                 "--format", "json", "--facets").stdout)
    assert whole["results"] == cli_json["results"]
    assert {k: whole["summary"][k] for k in cli_json["summary"]} == cli_json["summary"]
    shown = json.loads(invoke("show", WIRE_ID, "--index", web_index, "--format", "json").stdout)
    assert client.get("/api/article/" + quote(WIRE_ID, safe=":")).json() == shown
    duplicates = invoke("duplicates", "--index", web_index, "--format", "jsonl").stdout
    assert client.get("/api/duplicates?format=jsonl").text == duplicates
    lines = [json.loads(line) for line in duplicates.splitlines()]
    assert client.get("/api/duplicates").json() == lines
    stats = json.loads(invoke("stats", "--index", web_index, "--format", "json").stdout)
    assert client.get("/api/stats").json() == stats


TRAVERSALS = [
    "/article/../../etc/passwd", "/article/..%2f..%2f..%2fetc%2fpasswd",
    "/article/%2e%2e/%2e%2e/etc/passwd", "/article/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/article/%252e%252e%252fetc%252fpasswd", "/article/....//....//etc/passwd",
    "/article/%2Fetc%2Fpasswd", "/api/article/..%2F..%2Fetc%2Fpasswd",
    "/static/..%2f__init__.py", "/static/%2e%2e%2fapp.py", "/static/../app.py",
    "/static/templates%2fbase.html",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_paths_from_the_url_reach_no_file(client, path):
    answer = client.get(path)
    assert answer.status_code == 404
    assert "root:" not in answer.text and "import " not in answer.text


def asgi_get(app, raw_path: bytes):
    """One GET straight into the application with the path exactly as sent (a client would
    have removed its dot segments)."""
    from urllib.parse import unquote

    path, _, query = raw_path.partition(b"?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": unquote(path.decode()), "raw_path": path,
             "query_string": query, "root_path": "", "headers": [(b"host", b"test")],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body.decode()


@pytest.mark.parametrize("raw", [b"/article/../../etc/passwd", b"/article/..%2F..%2Fetc/passwd",
                                 b"/static/../../../../etc/passwd", b"/static/../app.py"])
def test_dot_segments_sent_raw_reach_no_file(web_index, raw):
    status, body = asgi_get(create_app(web_index), raw)
    assert status == 404 and "root:" not in body and "import " not in body


BAD = [
    ("/?q=harbour&page=0", "page must be a whole number from 1"),
    ("/?q=harbour&page=two", "page must be a whole number"),
    ("/?q=harbour&page=%E2%91%A0", "page must be a whole number"),  # digits int() refuses
    ("/?q=harbour&n=%C2%B2", "n must be a whole number"),
    ("/reuse?n=%C2%B9", "n must be a whole number"),
    ("/?q=harbour&n=5000", "n must be a whole number from 1 to 100"),
    ("/?q=harbour&sort=random", "sort must be one of score, date, -date"),
    ("/?q=harbour&kind=photo", "kind must be one of body, caption"),
    ("/?q=harbour&since=2021-13", "since: &#39;2021-13&#39; is not a date"),
    ("/?q=harbour&since=2022&until=2021", "since (2022) is after until (2021)"),
    ("/?q=harbour&q=strike", "q is given 2 times"),
    ("/?q=harbour&debug=1", "unknown parameter &#39;debug&#39;"),
    ("/?q=harbour&source=Nowhere+Times", "no source &#39;Nowhere Times&#39;"),
    ("/?q=the+and+of", "stop word"),
    ("/?q=" + "harbour+" * 700, "the query is 5599 characters long; the most is 5000"),
    # (not "q is longer than 20000 characters": the limit to cut it to is the library's)
    ("/?q=" + "harbour+" * 2600, "the query is over 20000 characters long; the most is 5000"),
    ("/?q=harbour&source=Coastal%0ADaily", "source: control characters"),
    ("/?q=harbour%00", "control characters"),
    ("/?q=harbour&exact=yes", "exact must be one of 0, 1"),
    ("/reuse?min=1", "min must be a whole number from 2"),
    ("/article/harbour:w1?p=first", "p must be a whole number"),
    ("/article/harbour:w1?p=%C2%B2", "p must be a whole number"),
    ("/article/harbour:w1?q=x", "unknown parameter"),
]


def test_a_query_pasted_with_line_breaks_and_of_many_words_is_searched(client):
    """A paragraph copied with its line breaks, longer than any typed question (the library's
    limit, not the page's own)."""
    pasted = "northern\r\nharbour\t" + " ".join(f"padding{n}" for n in range(120))
    assert len(pasted) > 1000
    answer = client.get("/api/search", params={"q": pasted, "format": "jsonl"})
    assert answer.status_code == 200, answer.text
    first = client.get("/api/search", params={"q": "northern harbour", "format": "jsonl"})
    assert json.loads(answer.text.splitlines()[0])["id"] == \
        json.loads(first.text.splitlines()[0])["id"]


def test_a_query_with_line_breaks_is_in_the_box_with_spaces(client):
    """A box holds no line break: a browser drops it, gluing the words it parted, and the
    search sent again from the box would be another one."""
    for query, status in (("northern\r\nharbour\nstrike", 200), ("the\nof", 400)):
        answer = client.get("/", params={"q": query})
        assert answer.status_code == status
        boxes = [a for a in Page(answer.text).with_tag("input") if a.get("name") == "q"]
        assert [box["value"] for box in boxes] == [query.replace("\r\n", " ").replace("\n", " ")]


def test_a_paste_over_the_limit_is_refused_with_its_length_and_kept_in_the_box(client):
    pasted = "northern harbour " * 320  # 5,440 characters
    answer = client.get("/", params={"q": pasted, "since": "2021", "sort": "date"})
    assert answer.status_code == 400
    assert f"the query is {len(pasted.strip())} characters long; the most is 5000" in answer.text
    fields = {a["name"]: a.get("value") for a in Page(answer.text).with_tag("input")}
    assert fields["q"] == pasted.strip() and fields["since"] == "2021" and fields["sort"] == "date"
    api = client.get("/api/search", params={"q": pasted})
    assert api.status_code == 400 and "characters long; the most is 5000" in api.json()["error"]


@pytest.mark.parametrize("url, reason", BAD)
def test_bad_parameters_get_a_400_page_with_the_reason(client, url, reason):
    answer = client.get(url)
    assert answer.status_code == 400
    assert reason in answer.text and "Traceback" not in answer.text
    assert 'role="alert"' in answer.text
    if url.startswith("/?q=harbour&") and "&q=" not in url:  # the query stays, to be corrected
        assert 'id="q" name="q" type="search" value="harbour"' in answer.text


def test_a_refused_search_keeps_its_filters_for_the_next_query(client):
    answer = client.get("/?q=the&source=Coastal+Daily&since=2021-03&kind=body&sort=-date"
                        "&exact=1&n=5")
    assert answer.status_code == 400 and "stop word" in answer.text
    fields = [(a["name"], a.get("value", "")) for a in Page(answer.text).with_tag("input")]
    sent = [(name, "harbour" if name == "q" else value) for name, value in fields]
    again = client.get("/", params=sent)  # the box submitted with a better query
    assert again.status_code == 200
    assert 'value="2021-03" placeholder' in again.text and 'value="-date" selected' in again.text
    assert "source: Coastal Daily" in again.text and 'name="exact" value="1" form="search" checked'\
        in again.text
    # A filter the library refused is in force too: a link removes it, the rest kept.
    refused = client.get("/?q=harbour&source=Nowhere+Times&since=2021")
    removal = [a["href"] for a in Page(refused.text).with_tag("a")
               if a.get("title") == "remove this filter" and "since" in a["href"]]
    assert removal == ["/?q=harbour&since=2021"]
    assert client.get(removal[0]).status_code == 200


@pytest.mark.parametrize("url, bad, why", [
    ("/?q=harbour&source=Coastal+Daily&since=March+2021&sort=date&exact=1", "since",
     "since: &#39;March 2021&#39; is not a date"),
    ("/?q=harbour&source=Coastal+Daily&since=2022&until=2021&sort=date&exact=1", "since",
     "since (2022) is after until (2021)"),
    ("/?q=harbour&source=Coastal+Daily&sort=oldest&exact=1", "sort",
     "sort must be one of"),
])
def test_a_filter_the_page_refuses_leaves_the_others_in_force(client, url, bad, why):
    """A date mistyped in the filters: the page says why, and the next query typed keeps the
    sources and the order chosen before (only what was refused is left out)."""
    answer = client.get(url)
    assert answer.status_code == 400 and why in answer.text
    fields = [(a["name"], a.get("value", "")) for a in Page(answer.text).with_tag("input")]
    assert ("source", "Coastal Daily") in fields and ("exact", "1") in fields
    assert not [name for name, _ in fields if name in ("since", "until")]
    assert (("sort", "date") in fields) == (bad != "sort")  # the order chosen stays chosen
    assert "source: Coastal Daily" in answer.text  # as a filter in force, to be removed
    again = client.get("/", params=fields)
    assert again.status_code == 200 and "source: Coastal Daily" in again.text


@pytest.mark.parametrize("url, reason", [
    ("/api/search", "give q, the query"),
    ("/api/search?q=harbour&format=xml", "format must be one of json, jsonl"),
    ("/api/search?q=harbour&page=-1", "page must be a whole number"),
    ("/api/duplicates?n=0", "n must be a whole number from 1"),
    ("/api/stats?verbose=1", "unknown parameter 'verbose'; this page takes no parameters"),
    ("/api/article/harbour:w1?p=1", "unknown parameter 'p'; this page takes no parameters"),
    ("/api/search?q=the", "stop word"),
])
def test_bad_api_parameters_get_a_400_with_the_reason(client, url, reason):
    answer = client.get(url)
    assert answer.status_code == 400 and answer.headers["content-type"].startswith(
        "application/json")
    assert reason in answer.json()["error"]


def test_unknown_things_are_404_and_writing_is_refused(client):
    assert client.get("/article/harbour:nothing").status_code == 404
    assert client.get("/article/harbour:w1?p=99").status_code == 404
    assert client.get("/api/article/harbour:nothing").json()["error"].startswith("no paragraph")
    assert client.get("/nowhere").status_code == 404
    head = client.head("/?q=harbour")
    assert head.status_code == 200 and head.content == b""
    for method in ("post", "put", "delete"):
        answer = getattr(client, method)("/")
        assert answer.status_code == 405 and "GET and HEAD only" in answer.text
        assert answer.headers["allow"] == "GET, HEAD"
    assert client.post("/api/stats").headers["allow"] == "GET, HEAD"


def test_a_new_commit_is_picked_up(tmp_path):
    articles = websamples.write_corpus(tmp_path / "articles")
    searchkit.build_index([articles], tmp_path / "index")
    with TestClient(create_app(tmp_path / "index")) as client:
        assert client.get("/api/search?q=lighthouse").json()["summary"]["total"] == 0
        (articles / "late.txt").write_text("Keeper's log\n\nThe lighthouse keeper saw the "
                                           "strike from the rocks.\n", encoding="utf-8")
        searchkit.build_index([articles], tmp_path / "index")
        assert client.get("/api/search?q=lighthouse").json()["summary"]["total"] == 1
        assert "lighthouse" in client.get("/?q=lighthouse").text


def test_an_index_deleted_while_served_is_missing_on_every_page(tmp_path):
    articles = websamples.write_corpus(tmp_path / "articles")
    searchkit.build_index([articles], tmp_path / "index")
    urls = ["/", "/?q=%22northern+harbour%22", "/?q=harbour", "/reuse", "/api/stats",
            "/article/harbour:c1"]
    with TestClient(create_app(tmp_path / "index")) as client:
        assert all(client.get(url).status_code == 200 for url in urls)
        shutil.rmtree(tmp_path / "index")
        for url in urls:
            answer = client.get(url)
            assert answer.status_code == 503 and "no index in" in answer.text, url
            assert "damaged" not in answer.text, url
        searchkit.build_index([articles], tmp_path / "index")
        assert all(client.get(url).status_code == 200 for url in urls)


def test_a_missing_index_is_a_clear_page(tmp_path):
    with TestClient(create_app(tmp_path / "nothing here")) as client:
        answer = client.get("/?q=harbour")
        assert answer.status_code == 503 and "no index in" in answer.text
        assert "no index in" in client.get("/api/stats").json()["error"]


def test_serve_names_the_extra_when_it_is_missing(monkeypatch, web_index):
    monkeypatch.setattr(web, "NEEDED", web.NEEDED + ("starlette_is_not_installed",))
    result = invoke("serve", "--index", web_index)
    assert result.exit_code == 1
    assert result.stderr == ("Error: searchkit serve needs the web extra "
                             "(starlette_is_not_installed missing): pip install "
                             "'searchkit[web]'\n")


def test_serve_warns_off_loopback_and_says_why_it_cannot_listen(web_index):
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("[::1]")
    assert is_loopback("localhost") and not is_loopback("0.0.0.0")
    result = invoke("serve", "--index", web_index, "--host", "192.0.2.1", "--port", "0")
    assert result.exit_code == 1
    warning, error = result.stderr.splitlines()
    assert warning.startswith("warning: listening on 192.0.2.1, not on this machine only")
    assert error.startswith("Error: 192.0.2.1:0: ")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = invoke("serve", "--index", web_index, "--port", port)
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert f"127.0.0.1:{port}" in result.stderr


def test_open_says_so_when_no_browser_can_be_opened(monkeypatch, capsys):
    from searchkit.web import server

    monkeypatch.setattr(server.webbrowser, "open", lambda url: False)
    server.open_browser("http://127.0.0.1:8000/")()
    assert capsys.readouterr().err == ("searchkit: warning: no web browser could be opened; "
                                       "open http://127.0.0.1:8000/ in one\n")


def _read(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as answer:
        assert answer.status == 200
        return answer.read()


def test_serve_answers_on_the_address_it_prints_until_ctrl_c(web_index):
    process = subprocess.Popen(
        [sys.executable, "-m", "searchkit", "serve", "--index", str(web_index), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        url = process.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url)
        with urllib.request.urlopen(url + "api/stats", timeout=30) as answer:
            assert json.load(answer)["articles"] == len(websamples.ARTICLES)
        # Requests at once share the one open index (phrases go through Whoosh's reader).
        paths = ["api/search?q=%22northern+harbour%22", "api/search?q=harbour+strike",
                 "api/article/harbour:c1", "?q=%22harbour+master%22"] * 6
        with ThreadPoolExecutor(8) as pool:
            bodies = list(pool.map(lambda path: _read(url + path), paths))
        assert all(body == first for body, first in zip(bodies, bodies[:4] * 6))
        total = searchkit.search('"northern harbour"', web_index).total
        assert json.loads(bodies[0])["summary"]["total"] == total > 0
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "serving" in stderr and "Traceback" not in stderr


def test_the_time_limit_of_a_search_gives_a_400_page(client, monkeypatch):
    from searchkit.retrieval import searcher

    monkeypatch.setattr(searcher, "SEARCH_SECONDS", -1.0)  # every search is over its time
    answer = client.get("/", params={"q": '"northern harbour" OR strik*'})
    assert answer.status_code == 400 and "was stopped" in answer.text
    api = client.get("/api/search", params={"q": '"northern harbour" OR strik*'})
    assert api.status_code == 400 and "was stopped" in api.json()["error"]


def test_on_a_loopback_address_only_requests_for_this_machine_are_answered(web_index):
    """Another site's page whose name was rebound to 127.0.0.1 sends its own name as Host."""
    app = create_app(web_index, local_only=True)
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        for host in ("127.0.0.1:8000", "localhost:8000", "[::1]:8000", "localhost"):
            assert client.get("/api/stats", headers={"host": host}).status_code == 200, host
        for host in ("attacker.example:8000", "attacker.example", "127.0.0.1.attacker.example",
                     "", "[::1].attacker.example:80"):
            answer = client.get("/api/stats", headers={"host": host})
            assert answer.status_code == 400, host
            assert "only requests for this machine" in answer.json()["error"]
            assert "default-src 'none'" in answer.headers["content-security-policy"]
            page = client.get("/", headers={"host": host})
            assert page.status_code == 400 and page.text.startswith("400: this server answers")
