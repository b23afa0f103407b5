"""searchkit against a SQLite FTS5 baseline on the same paragraphs, measured in the same run.

    python bench/speed.py [--corpus small|large|bbc] [--quick] [--runs N] [--no-tutorial]
                          [--builds-only] [--no-commands]

Corpora are read in place from ../shared/data (never copied into the repository):
- small (default): BBC (2,225 .txt files) + Reuters-21578, each story written to a temporary
  folder as one .txt (title, blank line, the body as one paragraph: the blank-line split of the
  earlier measurements, ~33k paragraphs) with its <DATE> in a manifest.json;
- large: the same, but Reuters bodies split into paragraphs at indented lines (as
  tests/reuters.py does; ~120k paragraphs);
- bbc: BBC only (quick checks).
The temporary folder is deleted at the end.

Steps, each in a fresh process so that one engine's caches and imports do not help the other:
1. build: searchkit's library build (`searchkit.build_index(paths, dir, rebuild=True)`, from the
   files: reading, classifying, grouping near duplicates, writing), with a helper process
   (whatever the machine's load) and with one process, then FTS5 (porter tokenizer)
   from the paragraphs searchkit stored (id, title, text, dup_group), put first (not timed) in a
   table of a database of their own, which SQLite reads a row at a time: timed from there to
   the commit, its memory its own; and the Whoosh tutorial's way of indexing the same files (as in
   bench/index_time.py). --runs builds of each, interleaved; medians. Peak memory is sampled
   every 50 ms over the build's process tree: the sum of PSS (a page shared by a forked helper
   and its parent counted once) and, for reference, of RSS. searchkit's own stage timings
   (IndexSummary.stage_seconds) say where its build went.
   The index's size on disk is taken as built.
2. queries: a fixed set of 200 queries (seed 0; 1-4 words mixing common, mid and rare words,
   headline prefixes, a few quoted phrases) written to queries.txt in the temp folder and
   printed with --show-queries. searchkit: one Searcher, `search(q, limit=10)` (collapse on,
   snippets as it makes them). FTS5: the words OR-ed (each quoted), `ORDER BY bm25() LIMIT`,
   snippet(), duplicates collapsed by searchkit's own dup_group keys, the other members of each
   result's group looked up, and the matching rows counted (the same work searchkit does for
   "1-10 of N results"); plus FTS5's bare top-10 with snippets as a second reference. Warm-up
   first; each engine runs the set twice, alternating; a query's latency is its faster pass.
   Then 200 pasted sentences (12-40 words of a paragraph; FTS5: every word quoted, OR-ed) and
   200 quotations in quote marks (2-8 words of a paragraph; FTS5: the phrase), each set with
   whether the paragraph it came from was found (first, or among the ten).
3. cold: `python -m searchkit search oil --index DIR -n 10 --format plain`, start to exit, and
   the FTS5 equivalent (`python -c`: import sqlite3, open, one query with snippets, print), and
   `python -c pass` as the floor; medians of --cold-runs. Then `python -X importtime` of the
   searchkit command: which top-level packages its start-up imports cost.
4. the commands a user types (after the queries): a BBC build from the command line, the same
   command on the unchanged BBC, and a run after one file of the corpus changed, on the index
   built in step 1.
The machine is shared and noisy: compare the ratios, measured in one run, not absolute times.
"""

import argparse
import html
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
PY = sys.executable
QUERIES = 200
COLD_WORD = "oil"

# ---------------------------------------------------------------------------------- corpus


_STORY = re.compile(r"<REUTERS[^>]*NEWID=\"(\d+)\">(.*?)</REUTERS>", re.S)


def _field(story: str, tag: str) -> str:
    match = re.search(rf"<{tag}>(.*?)</{tag}>", story, re.S)
    return html.unescape(match.group(1)) if match else ""


def write_reuters(folder: Path, split_lines: bool) -> int:
    """Every Reuters story with a title and a body as ``<NEWID>.txt`` (+ manifest.json with
    its date); the number of stories written."""
    folder.mkdir(parents=True)
    manifest = {}
    for sgm in sorted((DATA / "reuters21578").glob("reut2-*.sgm")):
        for newid, story in _STORY.findall(sgm.read_text(encoding="latin-1")):
            title, body = " ".join(_field(story, "TITLE").split()), _field(story, "BODY")
            body = body.replace("\x03", "").rsplit("Reuter", 1)[0]
            if not title or not body.strip():
                continue
            if split_lines:
                paragraphs = [" ".join(p.split()) for p in re.split(r"\n(?=\s)", body)]
            else:
                paragraphs = [" ".join(body.split())]
            paragraphs = [p for p in paragraphs if p]
            if not paragraphs:
                continue
            name = f"{newid}.txt"
            (folder / name).write_text(title + "\n\n" + "\n\n".join(paragraphs) + "\n")
            entry = {"source": "Reuters"}
            try:
                day = datetime.strptime(_field(story, "DATE").split()[0], "%d-%b-%Y").date()
                entry["date"] = day.isoformat()
            except (IndexError, ValueError):
                pass
            manifest[name] = entry
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return len(manifest)


def corpus_paths(name: str, tmp: Path) -> list:
    bbc = DATA / "bbc"
    if name == "bbc":
        return [bbc]
    reuters = tmp / "reuters"
    stories = write_reuters(reuters, split_lines=name == "large")
    print(f"wrote {stories} Reuters stories to {reuters} (temporary)", file=sys.stderr)
    return [bbc, reuters]


# ---------------------------------------------------------------------------------- build

SEARCHKIT_BUILD = """
import json, resource, sys, time
from pathlib import Path
started = time.perf_counter()
import searchkit
from searchkit.index import build as indexer
spec = json.loads(sys.argv[1])
if spec["processes"] == 2:  # a helper process whatever the machine's load
    indexer.PARALLEL_SPARE_CORES = None
else:
    indexer.PARALLEL_FROM = indexer.PARALLEL_READ_FILES = 10**12
summary = searchkit.build_index([Path(p) for p in spec["paths"]], spec["index"], rebuild=True)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "stages": summary.stage_seconds,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "workers_maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""

# Reads searchkit's stored paragraphs into a JSON list for FTS5 (not timed).
DUMP = """
import json, sys
from whoosh.index import open_dir
with open_dir(sys.argv[1]).searcher() as s:
    rows = [[f["id"], f["title"], f["text"], f["dup_group"]] for f in s.all_stored_fields()]
rows.sort(key=lambda r: r[0])
json.dump(rows, open(sys.argv[2], "w"))
print(len(rows))
"""

FTS5_SCHEMA = """
CREATE VIRTUAL TABLE t USING fts5(id UNINDEXED, title, text, dup_group UNINDEXED,
                                  tokenize = 'porter unicode61 remove_diacritics 2');
CREATE TABLE grp(dup_group TEXT, rid INTEGER);
"""

# The paragraphs of DUMP's list in a table of a database of their own (not timed): FTS5_BUILD
# reads them from there, a row at a time, so that its memory is SQLite's own, not the list's.
STAGE = """
import json, sqlite3, sys
con = sqlite3.connect(sys.argv[2])
with con:
    con.execute("CREATE TABLE paragraphs(id, title, text, dup_group)")
    con.executemany("INSERT INTO paragraphs VALUES (?, ?, ?, ?)", json.load(open(sys.argv[1])))
con.close()
print(0)
"""

FTS5_BUILD = """
import json, resource, sqlite3, sys, time
staged, db = sys.argv[1], sys.argv[2]
started = time.perf_counter()
con = sqlite3.connect(db)
con.executescript(sys.argv[3])
con.execute("ATTACH DATABASE ? AS staged", (staged,))
with con:
    con.execute("INSERT INTO t(rowid, id, title, text, dup_group) "
                "SELECT rowid, id, title, text, dup_group FROM staged.paragraphs ORDER BY rowid")
    con.execute("INSERT INTO grp SELECT dup_group, rowid FROM staged.paragraphs ORDER BY rowid")
    con.execute("CREATE INDEX grp_key ON grp(dup_group)")
    con.execute("INSERT INTO t(t) VALUES ('optimize')")
con.execute("DETACH DATABASE staged")
con.close()
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""

# The Whoosh tutorial's way (as bench/index_time.py): one writer, StemmingAnalyzer, blank-line
# paragraphs of the .txt files, nothing else.
TUTORIAL_BUILD = """
import json, resource, sys, time
from pathlib import Path
started = time.perf_counter()
from whoosh.analysis import StemmingAnalyzer
from whoosh.fields import ID, TEXT, Schema
from whoosh.index import create_in
spec = json.loads(sys.argv[1])
schema = Schema(id=ID(stored=True, unique=True), title=TEXT(stored=True),
                text=TEXT(stored=True, analyzer=StemmingAnalyzer()))
writer = create_in(spec["index"], schema).writer()
n = 0
for corpus in spec["paths"]:
    for path in sorted(Path(corpus).rglob("*.txt")):
        try:
            blocks = [b.strip() for b in path.read_text(encoding="utf-8").split("\\n\\n")
                      if b.strip()]
        except UnicodeDecodeError:
            continue
        for k, block in enumerate(blocks[1:], start=1):
            writer.add_document(id=f"{path}#{k}", title=blocks[0], text=block)
            n += 1
writer.commit()
print(json.dumps({"seconds": time.perf_counter() - started, "paragraphs": n,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def run_json(args: list) -> dict:
    done = subprocess.run([PY, *args], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _tree(pid: int) -> list:
    """``pid`` and its descendants (from /proc/PID/task/*/children)."""
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        try:
            tasks = os.listdir(f"/proc/{found[-1]}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{found[-1]}/task/{task}/children") as handle:
                    todo += [int(child) for child in handle.read().split()]
            except (OSError, ValueError):
                pass
    return found


def _memory_kb(pid: int) -> tuple:
    """(PSS, RSS) of one process in kB: PSS shares a page among the processes using it, so the
    PSS of a process tree is what it takes together (forked helpers share their parent's)."""
    pss = rss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss = int(line.split()[1])
    except OSError:
        pass
    return pss, rss


def run_json_sampled(args: list, every: float = 0.05) -> dict:
    """``run_json``, with the peak memory of the process and its children together, sampled
    every ``every`` seconds: ``peak_pss_kb`` (what they took together) and ``peak_rss_kb``."""
    process = subprocess.Popen([PY, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    peak_pss = peak_rss = 0
    while process.poll() is None:
        sizes = [_memory_kb(pid) for pid in _tree(process.pid)]
        peak_pss = max(peak_pss, sum(p for p, _ in sizes))
        peak_rss = max(peak_rss, sum(r for _, r in sizes))
        time.sleep(every)
    out, err = process.communicate()
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, args, out, err)
    result = json.loads(out.strip().splitlines()[-1])
    return {**result, "peak_pss_kb": peak_pss, "peak_rss_kb": peak_rss}


def size_on_disk(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def searchkit_command(*args: str) -> float:
    """Seconds of one `searchkit ...` process, start to exit."""
    started = time.perf_counter()
    run = subprocess.run([PY, "-m", "searchkit", *args, "--quiet"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if run.returncode not in (0, 3):  # 3: done, with files skipped (the corpora have some)
        raise subprocess.CalledProcessError(run.returncode, run.args)
    return time.perf_counter() - started


def command_line_runs(paths: list, index: Path) -> dict:
    """The command a user types: a BBC build into a new folder, the same command again on the
    unchanged corpus, and, on the index just built from ``paths``, a run after one file of it
    changed (a Reuters story of the temporary copy, else a copy of the BBC)."""
    found = {}
    with tempfile.TemporaryDirectory() as scratch:
        bbc_index = Path(scratch) / "bbc-index"
        found["BBC full build from the command line (target <= 5 s)"] = searchkit_command(
            "index", str(DATA / "bbc"), "--index", str(bbc_index), "--rebuild")
        found["BBC unchanged re-run (target <= 1 s)"] = searchkit_command(
            "index", str(DATA / "bbc"), "--index", str(bbc_index))
        changeable = [Path(p) for p in paths
                      if not Path(p).resolve().is_relative_to(DATA.resolve())]
        if changeable:
            victim = sorted(changeable[0].glob("*.txt"))[0]
        else:  # only BBC: index a copy of it, so that one file can change
            copy = Path(scratch) / "bbc"
            shutil.copytree(DATA / "bbc", copy)
            paths, index = [str(copy)], Path(scratch) / "copy-index"
            searchkit_command("index", str(copy), "--index", str(index))
            victim = sorted(copy.rglob("*.txt"))[0]
        original = victim.read_bytes()
        victim.write_bytes(original + b"\n\nA paragraph added to measure an update.\n")
        try:
            found["one changed file in this corpus's index (target <= 2 s on `large`)"] = (
                searchkit_command("index", *paths, "--index", str(index)))
        finally:
            victim.write_bytes(original)
    return found


# ---------------------------------------------------------------------------------- queries

STOP = set(
    "a an and are as at be by for from has have he her his i in is it its of on or that the "
    "their they this to was were which who will with would said says also but not been than "
    "had we you she there after more over about up into out new one two mr".split()
)


def make_queries(rows: list, count: int = QUERIES, seed: int = 0) -> list:
    """A fixed query set drawn from the paragraphs: words by document frequency band,
    headline prefixes and quoted two-word phrases. Lower-case words except in headlines."""
    rng = random.Random(seed)
    df = Counter()
    texts = []
    for _id, _title, text, _group in rows:
        words = re.findall(r"[a-z]{3,15}", text.lower())
        df.update(set(words))
        texts.append(text)
    vocab = sorted((w for w in df if w not in STOP and df[w] >= 2), key=lambda w: (-df[w], w))
    n = len(vocab)
    common, mid, rare = vocab[: n // 50], vocab[n // 50 : n // 5], vocab[n // 5 :]
    titles = sorted({r[1] for r in rows})
    queries = []
    while len(queries) < count:
        kind = rng.random()
        if kind < 0.15:  # a headline prefix, as typed
            words = re.findall(r"[A-Za-z]+(?:['-][A-Za-z]+)*", rng.choice(titles))
            words = [w for w in words if w.upper() not in ("AND", "OR", "NOT", "TO")]
            if words:
                queries.append(" ".join(words[: rng.randint(2, 4)]))
        elif kind < 0.25:  # a phrase from a paragraph
            words = re.findall(r"[a-z]{3,15}", rng.choice(texts).lower())
            words = [w for w in words if w not in STOP]
            if len(words) >= 2:
                k = rng.randrange(len(words) - 1)
                queries.append(f'"{words[k]} {words[k + 1]}"')
        else:
            size = rng.choice((1, 2, 2, 3, 3, 4))
            bands = [rng.choice((common, mid, mid, rare)) for _ in range(size)]
            queries.append(" ".join(rng.choice(band) for band in bands))
    return queries


def cut_span(rows: list, rng: random.Random) -> tuple:
    """(paragraph id, 12-40 consecutive words of it) from a paragraph of 12 words or more."""
    while True:
        pid, _title, text, _group = rng.choice(rows)
        words = text.split()
        if len(words) >= 12:
            size = min(len(words), rng.randint(12, 40))
            start = rng.randint(0, len(words) - size)
            return pid, words[start : start + size]


def make_quoted(rows: list, count: int = QUERIES, seed: int = 2) -> list:
    """Quotations as a user puts them in quote marks: 2-8 consecutive words of a paragraph
    (one of them of five letters or more, so that not all are stop words), the quote marks
    and brackets of the text taken out, with the id of the paragraph they came from."""
    rng = random.Random(seed)
    quoted = []
    while len(quoted) < count:
        pid, _title, text, _group = rng.choice(rows)
        words = [w for w in re.sub(r"[\"“”()\[\]]", " ", text).split()
                 if re.search(r"\w", w)]
        size = rng.choice((2, 2, 3, 3, 4, 5, 6, 8))
        if len(words) <= size:
            continue
        start = rng.randrange(len(words) - size)
        span = words[start:start + size]
        if any(len(re.sub(r"\W", "", w)) >= 5 for w in span):
            quoted.append(['"' + " ".join(span) + '"', pid])
    return quoted


def make_pasted(rows: list, count: int = QUERIES, seed: int = 1) -> list:
    """Sentences as a user pastes them: 12-40 words cut from a paragraph, lightly edited (a word
    dropped from half of them, quote marks straightened or curled in a quarter), with the id of
    the paragraph they came from."""
    rng = random.Random(seed)
    pasted = []
    while len(pasted) < count:
        pid, span = cut_span(rows, rng)
        if rng.random() < 0.5:
            del span[rng.randrange(len(span))]
        sentence = " ".join(span)
        if rng.random() < 0.25:
            sentence = sentence.translate(str.maketrans("“”‘’", "\"\"''"))
        elif rng.random() < 0.33:
            sentence = re.sub(r'"([^"]*)"', "“\\1”", sentence)
        pasted.append([sentence, pid])
    return pasted


SEARCHKIT_QUERIES = """
import json, resource, sys, time
import searchkit
index, queries = sys.argv[1], json.load(open(sys.argv[2]))
def search(q):
    try:
        return searcher.search(q, limit=10).groups
    except searchkit.QueryError:  # a query refused counts as one that found nothing
        refused.append(q)
        return ()
refused = []
with searchkit.open_index(index) as searcher:
    for q in queries[:20]:
        search(q)
    refused.clear()
    times, hits, groups = [], [], []
    for q in queries:
        started = time.perf_counter()
        found = search(q)
        times.append(time.perf_counter() - started)
        hits.append([g.leader.id for g in found])
        groups.append([g.leader.group for g in found])
print(json.dumps({"times": times, "hits": hits, "groups": groups, "refused": refused,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""

FTS5_QUERIES = """
import json, re, resource, sqlite3, sys, time
db, queries, mode = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3]
con = sqlite3.connect(db)
TOP = ("SELECT rowid, id, dup_group, snippet(t, 2, '[', ']', '...', 24), bm25(t, 0, 0.3, 1) "
       "FROM t WHERE t MATCH ? ORDER BY bm25(t, 0, 0.3, 1) LIMIT ?")
def fts(q):
    if mode == "words":  # pasted text: every word on its own, quoted
        return " OR ".join('"' + w + '"' for w in re.findall(r"\\w+", q)) or '""'
    phrases = re.findall(r'"([^"]*)"', q)
    words = re.findall(r"[\\w']+", re.sub(r'"[^"]*"', " ", q))
    terms = ['"' + p.replace('"', '') + '"' for p in phrases if p.strip()]
    terms += ['"' + w.replace('"', '') + '"' for w in words]
    return " OR ".join(terms)
def same_work(q, limit=10):
    m = fts(q)
    total = con.execute("SELECT count(*) FROM t WHERE t MATCH ?", (m,)).fetchone()[0]
    fetch = limit * 3
    while True:
        rows = con.execute(TOP, (m, fetch)).fetchall()
        leaders, seen = [], set()
        for row in rows:
            if row[2] not in seen:
                seen.add(row[2])
                leaders.append(row)
        if len(leaders) >= limit or fetch >= total:
            break
        fetch *= 2
    out = []
    for row in leaders[:limit]:
        others = con.execute(
            "SELECT t.id, t.title, t.text FROM grp JOIN t ON t.rowid = grp.rid "
            "WHERE grp.dup_group = ? AND grp.rid != ?", (row[2], row[0])).fetchall()
        out.append((row[1], row[3], others, row[2]))
    return [(o[0], o[3]) for o in out]
def bare_pairs(q):
    return [(r[1], r[2]) for r in con.execute(TOP, (fts(q), 10))]
run = bare_pairs if mode == "bare" else same_work
for q in queries[:20]:
    run(q)
times, hits = [], []
for q in queries:
    started = time.perf_counter()
    found = run(q)
    times.append(time.perf_counter() - started)
    hits.append(found)
print(json.dumps({"times": times, "hits": [[h for h, _ in f] for f in hits],
                  "groups": [[g for _, g in f] for f in hits],
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def percentile(values: list, p: float) -> float:
    values = sorted(values)
    k = (len(values) - 1) * p
    lo = int(k)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


# ---------------------------------------------------------------------------------- SciFact

SCIFACT = DATA / "scifact"
DEPTH = 100

# SciFact's train queries ranked to DEPTH documents on an open Searcher (batch ranking: the
# queries read as plain text, as `search --batch` reads them).
SEARCHKIT_SCIFACT = """
import json, resource, sys, time
import searchkit
index, queries, depth = sys.argv[1], json.load(open(sys.argv[2])), int(sys.argv[3])
started = time.perf_counter()
searcher = searchkit.open_index(index)
opened = time.perf_counter()
runs = {}
for qid, text in queries.items():
    try:
        runs[qid] = [h.doc_id for h in searcher.search_documents(text, depth, syntax=False)]
    except searchkit.QueryError:
        runs[qid] = []
done = time.perf_counter()
print(json.dumps({"open": opened - started, "seconds": done - opened, "runs": runs,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""

# bm25s (Lucene BM25, k1 1.2, b 0.75, English stop words and Snowball stems as its README
# recommends) on the same abstracts: indexing, then the same queries to the same depth.
BM25S_SCIFACT = """
import json, resource, sys, time
import bm25s, Stemmer
corpus_file, queries, depth = sys.argv[1], json.load(open(sys.argv[2])), int(sys.argv[3])
ids, texts = [], []
for line in open(corpus_file, encoding="utf-8"):
    record = json.loads(line)
    ids.append(str(record["_id"]))
    texts.append(record.get("title", "") + " " + record["text"])
stemmer = Stemmer.Stemmer("english")
started = time.perf_counter()
retriever = bm25s.BM25(method="lucene", k1=1.2, b=0.75)
retriever.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False),
                show_progress=False)
indexed = time.perf_counter()
qids = list(queries)
tokens = bm25s.tokenize([queries[q] for q in qids], stopwords="en", stemmer=stemmer,
                        show_progress=False)
found, _scores = retriever.retrieve(tokens, k=depth, show_progress=False, n_threads=1)
done = time.perf_counter()
runs = {q: [ids[i] for i in row] for q, row in zip(qids, found.tolist())}
print(json.dumps({"index": indexed - started, "seconds": done - indexed, "runs": runs,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def scifact_queries() -> tuple:
    """SciFact's train queries (those with judgments) and their qrels."""
    texts = {}
    with open(SCIFACT / "queries.jsonl", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            texts[str(record["_id"])] = record["text"]
    qrels = defaultdict(dict)
    with open(SCIFACT / "qrels" / "train.tsv", encoding="utf-8") as rows:
        next(rows)
        for row in rows:
            qid, doc, score = row.split("\t")
            qrels[qid][doc] = int(score)
    return {q: texts[q] for q in sorted(qrels, key=int)}, qrels


def recall(runs: dict, qrels: dict, depth: int) -> float:
    """Mean recall at ``depth`` of judged relevant documents."""
    found = [len(set(runs.get(q, [])[:depth]) & set(rel)) / len(rel)
             for q, rel in qrels.items() if rel]
    return statistics.mean(found)


def scifact_bench(tmp: Path, runs: int) -> dict:
    """SciFact's train queries at depth 100: searchkit's batch ranking after the index is open,
    against bm25s's retrieval of the same queries, runs alternating; medians."""
    queries, qrels = scifact_queries()
    query_file = tmp / "scifact-queries.json"
    query_file.write_text(json.dumps(queries))
    index = tmp / "scifact-index"
    build = run_json(["-c", SEARCHKIT_BUILD, json.dumps(
        {"paths": [str(SCIFACT / "corpus.jsonl")], "index": str(index), "processes": 2})])
    results = defaultdict(list)
    for _ in range(runs):
        results["searchkit"].append(run_json(
            ["-c", SEARCHKIT_SCIFACT, str(index), str(query_file), str(DEPTH)]))
        results["bm25s"].append(run_json(
            ["-c", BM25S_SCIFACT, str(SCIFACT / "corpus.jsonl"), str(query_file), str(DEPTH)]))
    return {
        "queries": len(queries),
        "build": build["seconds"],
        "searchkit": statistics.median(r["seconds"] for r in results["searchkit"]),
        "open": statistics.median(r["open"] for r in results["searchkit"]),
        "bm25s": statistics.median(r["seconds"] for r in results["bm25s"]),
        "bm25s index": statistics.median(r["index"] for r in results["bm25s"]),
        "recall searchkit": recall(results["searchkit"][0]["runs"], qrels, DEPTH),
        "recall bm25s": recall(results["bm25s"][0]["runs"], qrels, DEPTH),
    }


# ---------------------------------------------------------------------------------- cold

FTS5_COLD = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
for row in con.execute(
        "SELECT id, title, snippet(t, 2, '[', ']', '...', 24) FROM t WHERE t MATCH ? "
        "ORDER BY bm25(t, 0, 0.3, 1) LIMIT 10", ('"' + sys.argv[2] + '"',)):
    print(*row, sep="\\n")
"""


def time_process(args: list) -> float:
    started = time.perf_counter()
    subprocess.run([PY, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def import_breakdown(index: Path, top: int = 12) -> list:
    """(package, ms inside it (with what it imports), ms of its own modules), biggest first;
    and the total."""
    done = subprocess.run(
        [PY, "-X", "importtime", "-m", "searchkit", "search", COLD_WORD, "--index", str(index),
         "-n", "10", "--format", "plain"],
        check=True, capture_output=True, text=True,
    )
    lines = []
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)", line)
        if match:
            self_us, cum_us, indent, module = match.groups()
            lines.append((int(self_us), int(cum_us), len(indent), module.split(".")[0]))
    own, entered = Counter(), Counter()
    for i, (self_us, cum_us, level, package) in enumerate(lines):
        own[package] += self_us
        # children are printed before their importer: the importer is the next shallower line
        parent = next((p for *_, lv, p in lines[i + 1:] if lv < level), None)
        if parent != package:
            entered[package] += cum_us  # time inside the package, with what it imports
    total = sum(own.values())
    rows = [(pkg, entered[pkg] / 1000, us / 1000) for pkg, us in own.most_common(top)]
    return rows, total / 1000


# ---------------------------------------------------------------------------------- main


def fmt_s(x):
    return f"{x:.1f} s" if x >= 1 else f"{x * 1000:.0f} ms"


def fmt_ms(x):
    return f"{x * 1000:.1f} ms"


def fmt_mb(b):
    return f"{b / 1e6:.1f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=("small", "large", "bbc"), default="small")
    parser.add_argument("--quick", action="store_true",
                        help="one build each, no tutorial baseline, 3 cold runs")
    parser.add_argument("--runs", type=int, default=3, help="builds of each engine")
    parser.add_argument("--cold-runs", type=int, default=10)
    parser.add_argument("--no-tutorial", action="store_true",
                        help="skip the Whoosh tutorial build (slow: ~90 s on small)")
    parser.add_argument("--show-queries", action="store_true")
    parser.add_argument("--no-scifact", action="store_true",
                        help="skip SciFact's batch ranking against bm25s (needs the bench extra)")
    parser.add_argument("--keep", type=Path, help="keep the indexes and queries in this folder")
    parser.add_argument("--no-commands", action="store_true",
                        help="skip the command-line runs (BBC build, re-run, a changed file)")
    parser.add_argument("--builds-only", action="store_true",
                        help="builds and command-line runs only (no queries, no cold runs)")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.cold_runs, args.no_tutorial = 1, 3, True
    if not args.no_scifact:
        try:
            import bm25s  # noqa: F401
            import Stemmer  # noqa: F401
        except ImportError:
            parser.error("SciFact's baseline needs bm25s: pip install -e '.[bench]' "
                         "(or pass --no-scifact)")

    tmp = Path(tempfile.mkdtemp(prefix="searchkit-speed-"))
    try:
        run_bench(args, tmp)
    finally:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for name in ("searchkit-index", "fts5.db", "queries.json", "paragraphs.json",
                         "pasted.json", "quoted.json"):
                if (tmp / name).exists():
                    shutil.move(str(tmp / name), str(args.keep / name))
        shutil.rmtree(tmp, ignore_errors=True)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_bench(args, tmp: Path) -> None:
    paths = [str(p) for p in corpus_paths(args.corpus, tmp)]
    index, db, rows_file = tmp / "searchkit-index", tmp / "fts5.db", tmp / "paragraphs.json"
    staged = tmp / "paragraphs.db"
    builds = defaultdict(list)
    for run in range(1, args.runs + 1):
        one = tmp / "searchkit-one-process"
        shutil.rmtree(one, ignore_errors=True)
        builds["searchkit one process"].append(run_json_sampled(
            ["-c", SEARCHKIT_BUILD, json.dumps({"paths": paths, "index": str(one),
                                                "processes": 1})]))
        shutil.rmtree(one, ignore_errors=True)
        shutil.rmtree(index, ignore_errors=True)
        builds["searchkit"].append(run_json_sampled(
            ["-c", SEARCHKIT_BUILD, json.dumps({"paths": paths, "index": str(index),
                                                "processes": 2})]))
        if run == 1:
            paragraphs = int(subprocess.run([PY, "-c", DUMP, str(index), str(rows_file)],
                                            check=True, capture_output=True, text=True).stdout)
            run_json(["-c", STAGE, str(rows_file), str(staged)])
        if db.exists():
            db.unlink()
        builds["fts5"].append(
            run_json_sampled(["-c", FTS5_BUILD, str(staged), str(db), FTS5_SCHEMA]))
        if not args.no_tutorial:
            with tempfile.TemporaryDirectory(dir=tmp) as tutorial:
                builds["tutorial"].append(run_json_sampled(
                    ["-c", TUTORIAL_BUILD, json.dumps({"paths": paths, "index": tutorial})]))
        log(f"build run {run}: " + ", ".join(
            f"{k} {v[-1]['seconds']:.1f} s" for k, v in builds.items()))
    # The index as built, before the command-line runs update it (one file changed).
    sizes = size_on_disk(index), size_on_disk(db)
    queries = None if args.builds_only else measure_queries(args, tmp, index, db, rows_file)
    commands = {} if args.no_commands else command_line_runs(paths, index)
    log("command-line runs done")

    med = {k: {m: statistics.median(b[m] for b in v) for m in v[0]
               if m not in ("paragraphs", "stages")}
           for k, v in builds.items()}
    sk, fts, one = med["searchkit"], med["fts5"], med["searchkit one process"]
    table = []

    def row(metric, a, b, show, ratio=True):
        table.append((metric, show(a), show(b), f"{a / b:.2f}" if ratio and b else "—"))

    row("build time (two processes)", sk["seconds"], fts["seconds"], fmt_s)
    row("build time (one process)", one["seconds"], fts["seconds"], fmt_s)
    row("paragraphs/s (two processes)", paragraphs / sk["seconds"], paragraphs / fts["seconds"],
        lambda x: f"{x:,.0f}")
    row("index size", *sizes, fmt_mb)
    row("peak memory of the build, all processes (PSS)", sk["peak_pss_kb"] * 1024,
        fts["peak_pss_kb"] * 1024, fmt_mb)
    row("peak memory of the build, one process (PSS)", one["peak_pss_kb"] * 1024,
        fts["peak_pss_kb"] * 1024, fmt_mb)
    if queries:
        latency, cold = queries["latency"], queries["cold"]
        for name, p in (("query p50", 0.5), ("query p95", 0.95)):
            row(name, percentile(latency["searchkit"], p), percentile(latency["fts5"], p),
                fmt_ms)
        for name, p in (("query p50 vs FTS5 bare top-10", 0.5),
                        ("query p95 vs FTS5 bare", 0.95)):
            row(name, percentile(latency["searchkit"], p), percentile(latency["fts5 bare"], p),
                fmt_ms)
        pasted_latency, success = queries["pasted_latency"], queries["pasted_success"]
        for name, p in (("pasted sentence p50", 0.5), ("pasted sentence p95", 0.95)):
            row(name, percentile(pasted_latency["searchkit"], p),
                percentile(pasted_latency["fts5"], p), fmt_ms)
        row("pasted sentence success@1", success["searchkit"], success["fts5"],
            lambda x: f"{x:.3f}")
        table.append(("pasted sentences refused", str(queries["pasted_refused"]), "0", "—"))
        quoted_latency, quoted_found = queries["quoted_latency"], queries["quoted_found"]
        for name, p in (("quoted phrase p50", 0.5), ("quoted phrase p95", 0.95)):
            row(name, percentile(quoted_latency["searchkit"], p),
                percentile(quoted_latency["fts5"], p), fmt_ms)
        row("quoted phrase, its paragraph in the top 10", quoted_found["searchkit"],
            quoted_found["fts5"], lambda x: f"{x:.3f}")
        row("query process peak memory", queries["memory"]["searchkit"],
            queries["memory"]["fts5"], fmt_mb)
        scifact = queries["scifact"]
        if scifact:
            row(f"SciFact {scifact['queries']} train queries, depth {DEPTH} (bm25s)",
                scifact["searchkit"], scifact["bm25s"], fmt_s)
            row(f"SciFact recall@{DEPTH} (bm25s)", scifact["recall searchkit"],
                scifact["recall bm25s"], lambda x: f"{x:.4f}")
        cold_sk, cold_fts, floor, numpy_floor = (
            statistics.median(cold[k]) for k in ("searchkit", "fts5", "floor", "numpy"))
        row("cold one-query process", cold_sk, cold_fts, fmt_ms)
        row("cold minus `python -c pass`", cold_sk - floor, cold_fts - floor, fmt_ms)
        table.append(("cold minus `python -c \"import numpy\"`", fmt_ms(cold_sk - numpy_floor),
                      "—", "—"))

    print(f"## searchkit vs SQLite FTS5 — corpus `{args.corpus}`: {paragraphs:,} paragraphs of "
          f"{', '.join(Path(p).name for p in paths)}")
    print()
    print(f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores "
          f"(`nproc` {len(os.sched_getaffinity(0))}), load average "
          f"{os.getloadavg()[0]:.1f}, Python {platform.python_version()}, "
          f"SQLite {__import__('sqlite3').sqlite_version}, {platform.machine()}; "
          f"{args.runs} build(s) each"
          + (f", {QUERIES} queries x 2 passes, {args.cold_runs} cold runs" if queries else "")
          + "; medians")
    print()
    print("| metric | searchkit | FTS5 | ratio |")
    print("|---|---|---|---|")
    for metric, a, b, ratio in table:
        print(f"| {metric} | {a} | {b} | {ratio} |")
    print()
    print(f"- peak memory summed over the process tree (RSS, shared pages counted in each "
          f"process): two processes {fmt_mb(sk['peak_rss_kb'] * 1024)}, one "
          f"{fmt_mb(one['peak_rss_kb'] * 1024)} (target <= 400 MB on `large`).")
    if args.runs > 1:  # the two processes' peaks fall together in one build and not another
        print("- peak memory (PSS) of each build, two processes / one: " + "; ".join(
            f"{fmt_mb(b['peak_pss_kb'] * 1024)} / {fmt_mb(o['peak_pss_kb'] * 1024)}"
            for b, o in zip(builds["searchkit"], builds["searchkit one process"])) + ".")
    if "tutorial" in med:
        tut = med["tutorial"]["seconds"]
        rate = paragraphs / tut  # the tutorial's paragraphs are the same files' blocks
        print(f"- Whoosh tutorial build of the same files: {fmt_s(tut)}, peak "
              f"{fmt_mb(med['tutorial']['peak_pss_kb'] * 1024)}; searchkit's paragraphs/s over "
              f"the tutorial's (same paragraphs): two processes "
              f"{paragraphs / sk['seconds'] / rate:.2f}x (target >= 10), one process "
              f"{paragraphs / one['seconds'] / rate:.2f}x (target >= 5).")
    for name in ("searchkit", "searchkit one process"):
        laps = builds[name]
        found = {stage: statistics.median(dict(b["stages"]).get(stage, 0.0) for b in laps)
                 for stage, _ in laps[0]["stages"]}
        print(f"- where `{name}`'s build went (library; its process start and imports not "
              "included): " + ", ".join(f"{stage} {sec:.1f} s" for stage, sec in found.items()))
    for name, seconds in commands.items():
        print(f"- {name}: {fmt_s(seconds)}")
    if not queries:
        return
    latency, cold = queries["latency"], queries["cold"]
    p50 = percentile(latency["searchkit"], 0.5) / percentile(latency["fts5"], 0.5)
    p95 = percentile(latency["searchkit"], 0.95) / percentile(latency["fts5"], 0.95)
    pasted50 = percentile(pasted_latency["searchkit"], 0.5) / percentile(
        pasted_latency["fts5"], 0.5)
    print(f"- query targets: short p50 {p50:.2f}x (target <= 1x), p95 {p95:.2f}x "
          f"(target <= 1.5x) of FTS5 doing the same work; pasted sentences p50 {pasted50:.2f}x "
          f"(target <= 1x); cold {cold_sk * 1000:.0f} ms (target <= 250 ms, or <= 100 ms above "
          f"`python -c \"import numpy\"`, {numpy_floor * 1000:.0f} ms: "
          f"{(cold_sk - numpy_floor) * 1000:.0f} ms); `python -c pass` {floor * 1000:.0f} ms.")
    if scifact:
        print(f"- SciFact: searchkit's index of {SCIFACT.name} opened in "
              f"{fmt_ms(scifact['open'])}, its {scifact['queries']} train queries ranked in "
              f"{fmt_s(scifact['searchkit'])} (target <= 5 s); bm25s indexed the abstracts in "
              f"{fmt_s(scifact['bm25s index'])} and ranked the queries in "
              f"{fmt_s(scifact['bm25s'])}.")
    print(f"- top-10 overlap searchkit/FTS5 (mean Jaccard of result ids): "
          f"{queries['overlap']:.2f}")
    print()
    print(f"Imports of one `searchkit search` process (python -X importtime; all imports "
          f"{queries['import_total']:.0f} ms):")
    print()
    print("| package | ms inside it (with what it imports) | ms of its own modules |")
    print("|---|---|---|")
    for package, own, cum in queries["imports"]:
        print(f"| {package} | {own:.1f} | {cum:.1f} |")


def fastest(passes: dict) -> dict:
    """Engine -> each query's fastest time over its passes."""
    return {k: [min(ts) for ts in zip(*(p["times"] for p in v))] for k, v in passes.items()}


def _passes_of(path: Path, cut: list, index: Path, db: Path, fts_mode: str) -> dict:
    """Two passes of each engine, alternating, over texts cut from paragraphs ((text, id)
    pairs, written to ``path``); FTS5 reads them as ``fts_mode`` says."""
    path.write_text(json.dumps([text for text, _ in cut]))
    passes = defaultdict(list)
    for _ in range(2):
        passes["searchkit"].append(run_json(["-c", SEARCHKIT_QUERIES, str(index), str(path)]))
        passes["fts5"].append(run_json(["-c", FTS5_QUERIES, str(db), str(path), fts_mode]))
    return passes


def measure_queries(args, tmp: Path, index: Path, db: Path, rows_file: Path) -> dict:
    rows = json.loads(rows_file.read_text())
    queries = make_queries(rows)
    (tmp / "queries.json").write_text(json.dumps(queries))
    if args.show_queries:
        print("\n".join(queries), file=sys.stderr)
    passes = defaultdict(list)
    for _ in range(2):
        passes["searchkit"].append(
            run_json(["-c", SEARCHKIT_QUERIES, str(index), str(tmp / "queries.json")]))
        passes["fts5"].append(
            run_json(["-c", FTS5_QUERIES, str(db), str(tmp / "queries.json"), "same"]))
        passes["fts5 bare"].append(
            run_json(["-c", FTS5_QUERIES, str(db), str(tmp / "queries.json"), "bare"]))
    latency = fastest(passes)
    overlap = statistics.mean(
        len(set(a) & set(b)) / len(set(a) | set(b)) if (a or b) else 1.0
        for a, b in zip(passes["searchkit"][0]["hits"], passes["fts5"][0]["hits"])
    )
    log("queries done")

    pasted = make_pasted(rows)
    group_of = {r[0]: r[3] for r in rows}
    pasted_passes = _passes_of(tmp / "pasted.json", pasted, index, db, "words")
    pasted_latency = fastest(pasted_passes)
    refused = len(set(pasted_passes["searchkit"][0]["refused"]))
    success = {k: statistics.mean(
        1.0 if groups and groups[0] == group_of[pid] else 0.0
        for groups, (_, pid) in zip(v[0]["groups"], pasted)) for k, v in pasted_passes.items()}
    log("pasted sentences done")
    quoted = make_quoted(rows)
    quoted_passes = _passes_of(tmp / "quoted.json", quoted, index, db, "same")
    quoted_latency = fastest(quoted_passes)
    # (the source paragraph's group among the first ten: a short quotation is often in many)
    quoted_found = {k: statistics.mean(
        1.0 if group_of[pid] in groups else 0.0
        for groups, (_, pid) in zip(v[0]["groups"], quoted)) for k, v in quoted_passes.items()}
    memory = {k: max(p["maxrss_kb"] for p in v) * 1024 for k, v in passes.items()}
    log("quoted phrases done")
    scifact = scifact_bench(tmp, 2) if not args.no_scifact else None
    if scifact:
        log("SciFact done")

    # Compiled, as an installed package is (a machine may set PYTHONDONTWRITEBYTECODE, and then
    # every process would compile searchkit's sources again).
    subprocess.run([PY, "-m", "compileall", "-q", str(REPO / "searchkit")], check=True,
                   stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONDONTWRITEBYTECODE": ""})
    cold = defaultdict(list)
    for _ in range(args.cold_runs):
        cold["searchkit"].append(time_process(
            ["-m", "searchkit", "search", COLD_WORD, "--index", str(index), "-n", "10",
             "--format", "plain"]))
        cold["fts5"].append(time_process(["-c", FTS5_COLD, str(db), COLD_WORD]))
        cold["floor"].append(time_process(["-c", "pass"]))
        cold["numpy"].append(time_process(["-c", "import numpy"]))
    imports, import_total = import_breakdown(index)
    log("cold done")
    return {"latency": latency, "overlap": overlap, "cold": cold, "imports": imports,
            "import_total": import_total, "pasted_latency": pasted_latency,
            "pasted_success": success, "pasted_refused": refused, "memory": memory,
            "quoted_latency": quoted_latency, "quoted_found": quoted_found,
            "scifact": scifact}


if __name__ == "__main__":
    main()
