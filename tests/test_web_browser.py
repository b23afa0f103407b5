"""`searchkit serve` in a real browser: Debian's Chromium driven by Playwright (pointed at
/usr/bin/chromium; nothing is downloaded), against the command started on a free port. A
person's path: type a query, see the matches highlighted, narrow by a source, open an
article, unfold "also in"; and an article full of script runs none of it.

SEARCHKIT_SCREENSHOTS=1 also saves the three pages at desktop and phone widths to
docs/screenshots/ (for docs/web.md); plain runs write nothing."""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import websamples

import searchkit
from searchkit import web

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
# Headless, and nothing that reaches out of the machine (updates, sync, field trials).
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _why_not() -> str:
    if web.missing():
        return f"needs the web extra: {web.INSTALL}"
    if not CHROMIUM.exists():
        return "needs Chromium at /usr/bin/chromium (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "needs Playwright for Python (the test extra)"
    return ""


if _why_not():
    if os.environ.get("SEARCHKIT_TEST_BROWSER") == "required":
        raise RuntimeError(f"SEARCHKIT_TEST_BROWSER=required, but this test {_why_not()}")
    pytest.skip(_why_not(), allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """`searchkit serve` on a free port over the invented articles; its address."""
    folder = tmp_path_factory.mktemp("browser")
    searchkit.build_index([websamples.write_corpus(folder / "articles")], folder / "index")
    process = subprocess.Popen(
        [sys.executable, "-m", "searchkit", "serve", "--index", str(folder / "index"),
         "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        yield url.rstrip("/")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        opened = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield opened
        opened.close()


@pytest.fixture
def page(browser):
    """A fresh page that fails the test on any dialog (alert) and records what the console
    says (a Content-Security-Policy refusal, a script error)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    opened = context.new_page()
    opened.dialogs, opened.console = [], []
    opened.on("dialog", lambda dialog: (opened.dialogs.append(dialog.message), dialog.dismiss()))
    opened.on("console", lambda message: opened.console.append(message.text))
    opened.on("pageerror", lambda error: opened.console.append(str(error)))
    yield opened
    context.close()


def test_search_narrow_open_and_unfold(site, page):
    page.goto(site + "/")
    page.keyboard.press("/")  # the script's shortcut to the box
    expect(page.locator("#q")).to_be_focused()
    page.keyboard.type("northern harbour")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=northern\+harbour"))
    marks = page.locator(".snippet mark")
    expect(marks.first).to_be_visible()
    assert {m.lower() for m in marks.all_inner_texts()} == {"northern", "harbour"}

    page.get_by_role("link", name="Coastal Daily").click()
    page.wait_for_url(re.compile(r"source=Coastal\+Daily"))
    sources = [m.split("·")[0].strip() for m in page.locator(".hit .meta").all_inner_texts()]
    assert sources and set(sources) == {"Coastal Daily"}

    also = page.locator("details.also").first
    copies = also.locator("li")
    expect(copies.first).to_be_hidden()
    also.locator("summary").click()
    expect(copies.first).to_be_visible()
    assert "Harbour Wire, 2021-03-02" in copies.all_inner_texts()[0]

    copies.first.get_by_role("link").click()  # the wire's article, its paragraph 1 marked
    page.wait_for_url(re.compile(r"/article/harbour:w1\?p=1#p1$"))
    marked = page.locator("li.marked")
    expect(marked).to_have_attribute("id", "p1")
    expect(marked).to_be_in_viewport()
    expect(page.locator(".provenance")).to_contain_text("Harbour Wire (from record)")
    assert page.dialogs == [] and page.console == []


def test_a_paragraph_deep_in_an_article_is_scrolled_to(site, browser):
    """Also by a link without the #p3 anchor: one to the paragraph's id (docs/web.md), or one
    whose anchor was lost on its way to a colleague."""
    context = browser.new_context(viewport={"width": 390, "height": 300})
    page = context.new_page()
    for path in ("/article/harbour:c1?p=3#p3", "/article/harbour:c1%233",
                 "/article/harbour:c1?p=3"):
        page.goto(site + path)
        expect(page.locator("#p3")).to_be_in_viewport()
        expect(page.locator("#p1")).not_to_be_in_viewport()
    context.close()


def test_script_in_articles_runs_nothing(site, page):
    page.goto(site + "/?q=harbour+talks")
    expect(page.locator(".hit").first).to_be_visible()
    page.goto(site + "/article/harbour:h1?p=1#p1")
    page.locator("li.marked").hover()
    for text in ("<script>window.__pwned = 'paragraph'", "onerror=\"window.__pwned = 'img'\"",
                 "<a href=\"javascript:window.__pwned = 'link'\">here</a>"):
        expect(page.locator(".paragraphs")).to_contain_text(text)
    expect(page.locator("h1")).to_contain_text("<script>window.__pwned = 'title'</script>")
    page.get_by_text("Owl").first.hover()
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.title() != "pwned" and page.dialogs == []
    assert page.locator(".paragraphs img, .paragraphs a, .paragraphs script").count() == 0


def test_the_pages_work_without_javascript(site, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(site + "/?q=northern+harbour")
    also = page.locator("details.also").first
    also.locator("summary").click()
    expect(also.locator("li").first).to_be_visible()
    page.locator("#since").fill("2021-04")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"since=2021-04"))
    expect(page.locator(".active")).to_contain_text("since: 2021-04")
    context.close()


def test_a_phone_wide_page_never_scrolls_sideways(site, browser):
    """320 px (WCAG's reflow width), with a web address pasted as the query, and a source of
    one long word shown as a filter in force (kept on the page that refuses it)."""
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    for path in ("/", "/?q=https://harbour.example.org/2021/03/northern-harbour-strike",
                 "/?q=harbour&source=https://harbour.example.org/wire/northern-coast-desk",
                 "/article/harbour:c1?p=2", "/reuse"):
        page.goto(site + path)
        widths = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        assert widths[0] <= widths[1], (path, widths)
    context.close()


def test_back_shows_the_filters_in_force_not_those_last_typed(site, page):
    page.goto(site + "/?q=harbour")
    page.locator("#since").fill("2021-04")
    page.locator("#sort").select_option("-date")
    page.locator("#q").fill("strike")
    page.locator("#q").press("Enter")
    page.wait_for_url(re.compile(r"q=strike"))
    page.go_back()
    page.wait_for_url(re.compile(r"/\?q=harbour$"))
    expect(page.locator("#q")).to_have_value("harbour")
    expect(page.locator("#since")).to_have_value("")
    expect(page.locator("#sort")).to_have_value("score")
    # A page restored whole from the back-forward cache (as desktop browsers keep it)
    page.locator("#since").fill("2021")
    page.evaluate("dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}))")
    expect(page.locator("#since")).to_have_value("")


def test_marks_are_told_apart_by_more_than_a_colour(site, page):
    """The matched words and the marked paragraph stand out without their pale backgrounds
    too (under 3:1 against the page), as in a high-contrast mode that replaces colours."""
    page.goto(site + "/?q=northern+harbour")
    weights = page.evaluate("['.snippet mark', '.snippet'].map(s => "
                            "+getComputedStyle(document.querySelector(s)).fontWeight)")
    assert weights[0] > weights[1]
    page.emulate_media(forced_colors="active")
    page.goto(site + "/article/harbour:c1?p=2#p2")
    borders = page.evaluate("['#p1', '#p2'].map(s => "
                            "getComputedStyle(document.querySelector(s)).borderLeftStyle)")
    assert borders == ["none", "solid"]


SHOTS = {"search": "/?q=northern+harbour", "article": "/article/harbour:c1?p=2#p2",
         "reuse": "/reuse"}
WIDTHS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.mark.skipif(not os.environ.get("SEARCHKIT_SCREENSHOTS"),
                    reason="SEARCHKIT_SCREENSHOTS=1 saves the docs' screenshots")
def test_screenshots_for_the_docs(site, browser):
    SCREENSHOTS.mkdir(exist_ok=True)
    for width, viewport in WIDTHS.items():
        context = browser.new_context(viewport=viewport, device_scale_factor=1)
        page = context.new_page()
        for name, path in SHOTS.items():
            page.goto(site + path)
            if name == "search":
                page.locator("details.also summary").first.click()
            target = SCREENSHOTS / f"{name}-{width}.png"
            page.screenshot(path=str(target), full_page=width == "desktop")
            assert target.stat().st_size > 0
        context.close()


def test_the_browser_is_the_systems(browser):
    """Playwright drives Debian's Chromium, not a browser build of its own."""
    printed = subprocess.run([str(CHROMIUM), "--version"], capture_output=True, text=True)
    assert browser.version in printed.stdout
