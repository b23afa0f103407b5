"""Query latency of one checkout: p50/p95 of a query set on one open Searcher.

    python bench/latency.py INDEX QUERIES.json [--passes 2]

INDEX and QUERIES.json as `bench/speed.py --keep DIR` leaves them (DIR/searchkit-index,
DIR/queries.json). Each query's latency is the fastest of its passes (after 20 warm-up
queries): `search(q, limit=10)`, collapse, snippets and the total, as the CLI asks.

To compare two versions in one run, give the other checkout first on the path, each on an
index it built itself (indexes of other versions may not open), and alternate:

    git worktree add ../old REV && (cd ../old && python bench/speed.py --quick --keep /tmp/old)
    for i in 1 2; do PYTHONPATH=../old python bench/latency.py /tmp/old/searchkit-index Q.json
                     python bench/latency.py /tmp/new/searchkit-index Q.json; done
"""

import argparse
import json
import sys
import time
from pathlib import Path

import searchkit
from speed import percentile  # bench/ is the script's folder, so first on the path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index", type=Path)
    parser.add_argument("queries", type=Path)
    parser.add_argument("--passes", type=int, default=2)
    args = parser.parse_args()
    queries = json.loads(args.queries.read_text(encoding="utf-8"))
    refused = set()

    def search(i: int, query: str) -> None:
        try:
            searcher.search(query, limit=10)
        except searchkit.QueryError:  # (speed.py's short set has a query of stop words)
            refused.add(i)

    with searchkit.open_index(args.index) as searcher:
        for i, query in enumerate(queries[:20]):
            search(i, query)
        best = [float("inf")] * len(queries)
        for _ in range(args.passes):
            for i, query in enumerate(queries):
                started = time.perf_counter()
                search(i, query)
                best[i] = min(best[i], time.perf_counter() - started)
    print(json.dumps({
        "searchkit": str(Path(searchkit.__file__).parent),
        "queries": len(queries),
        "refused": len(refused),
        "p50_ms": round(percentile(best, 0.5) * 1e3, 1),
        "p95_ms": round(percentile(best, 0.95) * 1e3, 1),
        "total_s": round(sum(best), 2),
    }))


if __name__ == "__main__":
    sys.exit(main())
