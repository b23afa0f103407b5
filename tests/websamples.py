"""Invented articles for the web page's tests (tests/test_web*.py): three outlets that reprint
one wire paragraph (exactly and edited) over two months, and one article whose every field
tries to run script in a browser. Every word was written for these tests."""

import json
from pathlib import Path

WIRE = ("Dockers at the northern harbour walked out on Tuesday over pay, halting cargo traffic "
        "through the port for the first time in a decade.")
WIRE_EDITED = ("Dockers at the northern harbour walked out on Tuesday over pay, halting cargo "
               "traffic through the port for the first time in ten years.")
QUOTE = ("The harbour master said talks with the union would resume on Friday and that "
         "perishable goods were being moved to the southern quay.")

HOSTILE_TITLE = "<script>window.__pwned = 'title'</script>Harbour talks report"
HOSTILE_PARAGRAPHS = [
    "Harbour talks ended <script>window.__pwned = 'paragraph'; document.title = 'pwned'"
    "</script> without a deal late on Thursday.",
    "A photo of the harbour talks: <img src=x onerror=\"window.__pwned = 'img'\"> as seen "
    "from the quay.",
    "Read the harbour talks statement <a href=\"javascript:window.__pwned = 'link'\">here</a> "
    "before the vote.",
]
HOSTILE_SOURCE = "Night <b onmouseover=\"window.__pwned = 'source'\">Owl</b>"

ARTICLES = [
    {"id": "w1", "source": "Harbour Wire", "date": "2021-03-02",
     "title": "Dockers strike at the northern harbour",
     "text": [WIRE, QUOTE, "Shipping lines warned of delays of up to a week for containers "
              "bound for inland depots."]},
    {"id": "c1", "source": "Coastal Daily", "date": "2021-03-03",
     "title": "Harbour strike halts cargo",
     "text": ["Our reporter spent the morning at the gates of the northern harbour.", WIRE,
              QUOTE]},
    {"id": "e1", "source": "Evening Ledger", "date": "2021-04-10",
     "title": "A month on, the harbour strike drags on",
     "text": [WIRE_EDITED, "Fishermen say the strike has cost them their spring season at the "
              "harbour market."]},
    {"id": "c2", "source": "Coastal Daily", "date": "2021-04-12",
     "title": "Harbour strike: fishermen count the cost",
     "text": ["Fishermen at the harbour market counted their losses as the strike entered "
              "its sixth week.", "Prices for cod rose by a third at the inland auctions."]},
    {"id": "u1", "source": "Harbour Wire", "title": "Notice at the harbour gate",
     "text": ["A notice pinned at the harbour gate by Ewa Kowalczyk listed the new shift "
              "times."]},
    {"id": "c3", "source": "Coastal Daily", "date": "2021-04-20",
     "title": "Harbour master speaks",
     "text": ["Harbour master Ewa Kowalcyk told the council the port would reopen in May."]},
    {"id": "h1", "source": HOSTILE_SOURCE, "date": "2021-04-15", "title": HOSTILE_TITLE,
     "text": HOSTILE_PARAGRAPHS},
]


def write_corpus(folder: Path) -> Path:
    """The articles as one JSON-lines file in ``folder``; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(article, ensure_ascii=False) for article in ARTICLES]
    (folder / "harbour.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder
