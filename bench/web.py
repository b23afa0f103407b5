"""The web page's response time beside the library search it wraps, on the same queries.

    python bench/web.py [--corpus DIR] [--queries N] [--passes 2] [--index DIR]

Builds an index of ../shared/data/bbc (or --corpus; --index DIR reuses one), draws the query
set of speed.py from its paragraphs (seed 0), starts `searchkit serve --port 0` as its own
process and times, query by query, alternating:

- library: ``Searcher.search(q, limit=10, facets=True)`` in this process (collapse, snippets,
  the total and the facets: what the search page asks for);
- page: GET /?q=... over one keep-alive HTTP connection, until the whole HTML is read (the
  search, the facets, the notes, the template, HTTP);
- API: GET /api/search?q=... (the same records as JSON);
- article: GET /article/<id>?p=N of each query's first hit, beside ``Searcher.show(id)`` and
  the lookup of each paragraph's reprints the page adds.

After 20 warm-up queries, each query's latency is the fastest of its passes; the report gives
p50 and p95 of each, and the ratio of the page's to the library's p50.
"""

import argparse
import http.client
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import searchkit
from searchkit.ingest.corpus import read_corpus
from speed import DATA, make_queries, percentile  # bench/ is the script's folder

WARM_UP = 20


def rows_of(corpus: Path) -> list:
    """(paragraph id, title, text, group) of every paragraph, as speed.make_queries takes."""
    read = read_corpus([corpus])
    return [(p.id, a.title, p.text, "") for a in read.articles for p in a.paragraphs]


class Server:
    """`searchkit serve` in its own process, and one keep-alive connection to it."""

    def __init__(self, index: Path):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "searchkit", "serve", "--index", str(index), "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        address = urlsplit(self.process.stdout.readline().strip())
        self.connection = http.client.HTTPConnection(address.hostname, address.port)

    def get(self, path: str) -> float:
        started = time.perf_counter()
        self.connection.request("GET", path)
        answer = self.connection.getresponse()
        answer_body = answer.read()
        elapsed = time.perf_counter() - started
        if answer.status != 200 or not answer_body:
            raise SystemExit(f"GET {path}: {answer.status}")
        return elapsed

    def stop(self) -> None:
        self.connection.close()
        self.process.terminate()
        self.process.wait(timeout=30)


def timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def show_with_reprints(searcher, paragraph_id: str) -> None:
    """What the article page asks the library for: the article, and each paragraph's places."""
    searcher.show(paragraph_id)
    searcher.reprints(paragraph_id)


def measure(searcher, server: Server, queries: list, passes: int) -> dict:
    firsts = {}
    for query in queries:
        hits = searcher.search(query, limit=1).hits
        if hits:
            firsts[query] = hits[0]
    steps = {
        "library search": lambda q: timed(lambda: searcher.search(q, limit=10, facets=True)),
        "search page": lambda q: server.get("/?" + urlencode({"q": q})),
        "API search": lambda q: server.get("/api/search?" + urlencode({"q": q})),
        "library show + reprints": lambda q: timed(
            lambda: show_with_reprints(searcher, firsts[q].id)),
        "article page": lambda q: server.get(
            f"/article/{quote(firsts[q].article_id, safe='/:')}?p={firsts[q].paragraph}"),
    }
    for query in queries[:WARM_UP]:
        for name, step in steps.items():
            if "article" not in name and "show" not in name or query in firsts:
                step(query)
    best = {name: {} for name in steps}
    for _ in range(passes):
        for query in queries:
            for name, step in steps.items():
                if ("article" in name or "show" in name) and query not in firsts:
                    continue
                took = step(query)
                best[name][query] = min(best[name].get(query, took), took)
    return {name: {"queries": len(times),
                   "p50_ms": round(percentile(list(times.values()), 0.5) * 1e3, 2),
                   "p95_ms": round(percentile(list(times.values()), 0.95) * 1e3, 2)}
            for name, times in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DATA / "bbc")
    parser.add_argument("--index", type=Path, help="an index of the corpus to reuse")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--passes", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        index = args.index or Path(scratch) / "index"
        if not args.index:
            searchkit.build_index([args.corpus], index)
        queries = make_queries(rows_of(args.corpus), args.queries)
        server = Server(index)
        try:
            with searchkit.open_index(index) as searcher:
                found = measure(searcher, server, queries, args.passes)
        finally:
            server.stop()
    found["page / library p50"] = round(
        found["search page"]["p50_ms"] / found["library search"]["p50_ms"], 2)
    found["article page / library p50"] = round(
        found["article page"]["p50_ms"] / found["library show + reprints"]["p50_ms"], 2)
    print(json.dumps({"corpus": str(args.corpus), **found}, indent=2))


if __name__ == "__main__":
    sys.exit(main())
