"""Building on a Dask cluster: paragraphs/s against the number of workers, what stays serial,
memory per worker, and what a million-article build would take by that model.

    python bench/cluster.py [--corpus small|large|bbc] [--workers 1,2] [--runs N]
                            [--articles 700000 --paragraphs-per-article 14]
                            [--cores-per-machine 16]

Each run times, one after another in fresh processes (so that machine noise falls on all alike):
- the build in one process (no helper, no cluster): the baseline;
- the build on a local Dask cluster of N worker processes (`searchkit.Cluster(workers=N)`,
  started before the clock), for each N of --workers.
Every build is the whole `build_index` (reading, grouping, writing, commit) from an empty
folder. Each cluster build reports its stages split into the workers' share (the time from
sending the tasks to the last result, the client's preparing of what it sends included:
reading files, hashing paragraphs, verifying candidate pairs, writing segments) and the
client's serial rest (finding and comparing files, the grouping's join and connected
components, the vocabulary, moving segments and the commit), the peak
memory (RSS) of the client and of each worker, and whether its near-duplicate groups are the
one-process build's, paragraph by paragraph.

The model: T(N) = S + W(1)/N, S the client's serial seconds and W(1) the workers' share with
one worker; checked against the measured T(2) here, then scaled linearly in paragraphs to
--articles articles (a month of CC-News: ~700,000 articles, ~10 million paragraphs) on machines
of --cores-per-machine cores each. Medians over --runs.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from speed import DATA, corpus_paths  # noqa: E402

ONE_PROCESS = """
import json, resource, sys, time
from pathlib import Path
import searchkit
from searchkit.index import build as indexer
spec = json.loads(sys.argv[1])
indexer.PARALLEL_FROM = indexer.PARALLEL_READ_FILES = 10**12
started = time.perf_counter()
summary = searchkit.build_index([Path(p) for p in spec["paths"]], spec["index"], rebuild=True)
print(json.dumps({"seconds": time.perf_counter() - started, "paragraphs": summary.paragraphs,
                  "stages": summary.stage_seconds,
                  "client_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""

ON_CLUSTER = """
import json, resource, sys, time
from pathlib import Path
import searchkit

def peak_kb():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

if __name__ == "__main__":
    spec = json.loads(sys.argv[1])
    started = time.perf_counter()
    with searchkit.Cluster(workers=spec["workers"]) as cluster:
        start_seconds = time.perf_counter() - started
        before = cluster.client.run(peak_kb)
        started = time.perf_counter()
        summary = searchkit.build_index([Path(p) for p in spec["paths"]], spec["index"],
                                        rebuild=True, cluster=cluster)
        seconds = time.perf_counter() - started
        workers = cluster.client.run(peak_kb)
    print(json.dumps({"seconds": seconds, "start_seconds": start_seconds,
                      "paragraphs": summary.paragraphs, "stages": summary.stage_seconds,
                      "workers_seconds": cluster.seconds,
                      "client_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                      "workers_kb": sorted(workers.values()),
                      "workers_idle_kb": sorted(before.values())}))
"""

GROUPS = """
import json, sys
from pathlib import Path
from searchkit.index import dedup, dupindex, store
found = {}
for name in sys.argv[1:]:
    generation = store.open_index(Path(name)).latest_generation()
    data = store.read_committed(name, generation, "dupindex")
    kept = dupindex.DupIndex.from_bytes(data, dedup.DEFAULT_THRESHOLD)
    found[name] = kept.groups() if kept else {}
a, b = found.values()
print(json.dumps({"paragraphs": len(a), "differ": sum(1 for k in a if a[k] != b.get(k)),
                  "groups": len(set(a.values()))}))
"""


def run(script: str, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", script, *args], check=True,
                          capture_output=True, text=True, cwd=REPO)
    return json.loads(done.stdout.strip().splitlines()[-1])


def median(values):
    return statistics.median(values) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", choices=("small", "large", "bbc"), default="large")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--articles", type=int, default=700_000)
    parser.add_argument("--paragraphs-per-article", type=float, default=14.0)
    parser.add_argument("--cores-per-machine", type=int, default=16)
    args = parser.parse_args()
    if not (DATA / "bbc").is_dir():
        sys.exit(f"needs ../shared/data (BBC and Reuters-21578) beside the repository: {DATA}")
    counts = [int(n) for n in args.workers.split(",")]
    one, spread = [], {n: [] for n in counts}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        paths = [str(p) for p in corpus_paths(args.corpus, tmp)]
        for number in range(args.runs):
            index = str(tmp / f"one-{number}")
            one.append(run(ONE_PROCESS, json.dumps({"paths": paths, "index": index})))
            print(f"run {number + 1}: one process {one[-1]['seconds']:.1f} s", file=sys.stderr)
            for n in counts:
                spec = {"paths": paths, "index": str(tmp / f"cluster-{n}-{number}"),
                        "workers": n}
                found = run(ON_CLUSTER, json.dumps(spec))
                found["groups"] = run(GROUPS, index, spec["index"])
                spread[n].append(found)
                print(f"run {number + 1}: {n} worker(s) {found['seconds']:.1f} s", file=sys.stderr)
    report(args, one, spread)


def serial_seconds(found: dict) -> float:
    return found["seconds"] - sum(found["workers_seconds"].values())


def serial_parts(found: dict) -> dict:
    """The client's serial seconds by part: the grouping's join and connected components
    (the grouping stage less the workers' hashing and verifying), the commit (vocabulary and
    stems tables, ledger, settings, commit), and the rest (finding and comparing files,
    receiving what was read, making the documents for the writers, moving segments)."""
    stages = dict(found["stages"])
    grouping = (stages.get("grouping near duplicates", 0.0)
                - found["workers_seconds"].get("paragraph slices hashed", 0.0)
                - found["workers_seconds"].get("chunks of candidate pairs verified", 0.0))
    commit = (stages.get("vocabulary and stems tables", 0.0)
              + stages.get("ledger, settings and commit", 0.0))
    return {"grouping: join, union": grouping, "commit": commit,
            "rest": serial_seconds(found) - grouping - commit}


def report(args, one, spread) -> None:
    paragraphs = one[0]["paragraphs"]
    base = median([r["seconds"] for r in one])
    print(f"corpus {args.corpus}: {paragraphs:,} paragraphs; medians of {args.runs} run(s)\n")
    print("| build | seconds | paragraphs/s | vs one process | client peak | worker peaks | "
          "groups as one process |")
    print("|---|---|---|---|---|---|---|")
    print(f"| one process | {base:.1f} | {paragraphs / base:,.0f} | 1.00x | "
          f"{median([r['client_kb'] for r in one]) / 1024:.0f} MB | - | - |")
    for n, runs in spread.items():
        seconds = median([r["seconds"] for r in runs])
        peaks = ", ".join(f"{kb / 1024:.0f}" for kb in runs[0]["workers_kb"])
        differ = max(r["groups"]["differ"] for r in runs)
        same = "yes" if differ == 0 else f"no: {differ:,} paragraphs differ"
        print(f"| {n} worker(s) | {seconds:.1f} | {paragraphs / seconds:,.0f} | "
              f"{base / seconds:.2f}x | {median([r['client_kb'] for r in runs]) / 1024:.0f} MB | "
              f"{peaks} MB | {same} |")
    print("\nWhere a cluster build's time goes (seconds; workers: from sending the tasks to "
          "the last result):\n")
    whats = sorted({w for runs in spread.values() for r in runs for w in r["workers_seconds"]})
    parts = list(serial_parts(next(iter(spread.values()))[0]))
    print("| workers | " + " | ".join(f"workers: {w}" for w in whats) + " | client, serial | "
          + " | ".join(f"of which {p}" for p in parts) + " | cluster start |")
    print("|---|" + "---|" * (len(whats) + len(parts) + 2))
    for n, runs in spread.items():
        cells = [f"{median([r['workers_seconds'].get(w, 0) for r in runs]):.1f}" for w in whats]
        cells.append(f"{median([serial_seconds(r) for r in runs]):.1f}")
        cells += [f"{median([serial_parts(r)[p] for r in runs]):.1f}" for p in parts]
        print(f"| {n} | " + " | ".join(cells)
              + f" | {median([r['start_seconds'] for r in runs]):.1f} |")
    print("\nClient stages (seconds, the workers' share included where they did it):\n")
    for n, runs in spread.items():
        stages = ", ".join(f"{name} {seconds:.1f}" for name, seconds in runs[0]["stages"])
        print(f"- {n} worker(s): {stages}")
    model(args, spread, paragraphs)


def model(args, spread, paragraphs) -> None:
    if 1 not in spread:
        return
    serial = median([serial_seconds(r) for r in spread[1]])
    work = median([sum(r["workers_seconds"].values()) for r in spread[1]])
    print(f"\nModel: T(N) = S + W/N with S = {serial:.1f} s (client) and W = {work:.1f} s "
          "(the workers' share with one worker).")
    for n in sorted(spread):
        if n != 1:
            measured = median([r["seconds"] for r in spread[n]])
            print(f"- {n} workers: model {serial + work / n:.1f} s, measured {measured:.1f} s")
    target = args.articles * args.paragraphs_per_article
    scale = target / paragraphs
    print(f"\n{args.articles:,} articles (~{target / 1e6:.1f} million paragraphs), scaled "
          f"linearly in paragraphs ({scale:,.0f}x this corpus), machines of "
          f"{args.cores_per_machine} cores (a worker per core):\n")
    client_gb = median([r["client_kb"] for r in spread[1]]) * scale / 1024 ** 2
    print("| machines | workers | hours | of which serial (client) | client memory |")
    print("|---|---|---|---|---|")
    for machines in (1, 4, 16, 64):
        workers = machines * args.cores_per_machine
        hours = (serial + work / workers) * scale / 3600
        print(f"| {machines} | {workers} | {hours:.2f} | {serial * scale / 3600:.2f} | "
              f"{client_gb:,.0f} GB |")


if __name__ == "__main__":
    main()
