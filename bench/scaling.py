"""How the build's time and memory grow with the corpus, against SQLite FTS5 at each size.

    python bench/scaling.py [--copies 1,2,4] [--processes 2] [--same-words] [--optimize]

The corpus at size k is `large` (BBC + Reuters-21578 split into paragraphs, as bench/speed.py
writes it) and k - 1 enciphered copies of it, each in a made-up language of its own: the
letters of every word's stem replaced by that copy's (``enciphered``), its ending kept, so
that each copy adds as many paragraphs, articles, files, postings, terms and near-duplicate
groups again, and none is a near duplicate of another copy's. The copies are written to a
temporary folder, deleted at the end. With ``--same-words`` each copy is written in the
corpus's own words instead, shuffled: every word replaced by another of the corpus's words, the
same one everywhere in the copy (``reworded``), so that a copy adds as many paragraphs, postings
and near-duplicate groups again but no new word: what grows with the paragraphs, apart from
what grows with the vocabulary.

At each size: searchkit's library build (``build_index``, in a fresh process, with its helper
processes whatever the machine's load, or in one with ``--processes 1``), its seconds and
stages, its peak memory (the sum of PSS over the process tree, sampled every 50 ms, as
bench/speed.py samples it) and its own process's memory by stage (after the reading, and its
high-water marks in the grouping and in the writing); then FTS5 loaded from the paragraphs
searchkit stored, as bench/speed.py loads them (from a table of a database of their own, a
row at a time), its seconds and peak; then an update of searchkit's index after one file
changed (a paragraph added to a Reuters story), in a fresh process too: its seconds and peak.
The table gives each size's figures, and the growth of each memory figure per 100,000
paragraphs between the smallest and the largest size.

With ``--optimize``, the updated index (its build's segments and the update's, the changed
file's old paragraphs deleted) is then merged into one segment twice, each in a fresh process
from the same copy: by `searchkit optimize`'s bulk merge (``store.optimize``) and by Whoosh's
own merge (its OPTIMIZE policy through the same writer, as `optimize` merged before): the
seconds and peak of each, and the bulk merge's growth per 100,000 paragraphs.

With ``--queries``, each size's index then answers bench/speed.py's query sets, drawn once
from the smallest size's paragraphs so that every size answers the same questions (with 1 x
among the sizes, questions about `large`'s own paragraphs): 200 short queries
(p50 / p95 over the fastest of two passes, beside FTS5 doing the same work, as speed.py
measures it), 200 pasted sentences (p50, success@1: the source paragraph's group first) and a
cold one-query `searchkit search` process (median of five), and the index's segments. With
enciphered copies these queries find `large`'s paragraphs among ever more of other words
(numbers are not enciphered); with ``--same-words`` every word's postings grow with the size.
"""

import argparse
import json
import random
import re
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import (COLD_WORD, DATA, DUMP, FTS5_BUILD, FTS5_COLD, FTS5_QUERIES,  # noqa: E402
                   FTS5_SCHEMA, SEARCHKIT_BUILD, SEARCHKIT_QUERIES, STAGE, corpus_paths,
                   fastest, make_pasted, make_queries, percentile, run_json, run_json_sampled,
                   time_process)

from nltk.stem.snowball import EnglishStemmer  # noqa: E402

from searchkit.index.wordterms import STOP_WORDS  # noqa: E402

# bench/speed.py's build, noting this process's memory by stage: its size after the reading,
# and its high-water marks in the grouping and in the writing (reset between them through
# /proc/self/clear_refs), from the build's own functions wrapped.
_NOTE_STAGES = """
from searchkit.index import build as stages
memory = {}
def status(key):
    fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
    return int(fields[key].split()[0]) // 1024
def reset():
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
def noted(name, before, after):
    run = getattr(stages, name)
    def wrapped(*args, **kwargs):
        before()
        found = run(*args, **kwargs)
        after()
        return found
    setattr(stages, name, wrapped)
def read():
    memory["after the reading"] = status("VmRSS")
    reset()
def writing():
    memory["the grouping's peak"] = status("VmHWM")
    reset()
noted("_plan", lambda: None, read)
noted("_write_segments", writing,
      lambda: memory.setdefault("the writing's peak", status("VmHWM")))
"""
STAGED_BUILD = SEARCHKIT_BUILD.replace(
    "summary = searchkit.build_index", _NOTE_STAGES + "summary = searchkit.build_index").replace(
    "print(json.dumps({", "print(json.dumps({'memory': memory, ")

# The same run on the index built, after one file changed: an update.
UPDATE = SEARCHKIT_BUILD.replace("rebuild=True", "rebuild=False")
# The index merged into one segment: by store.optimize (bulk), or by Whoosh's own merge.
OPTIMIZE = """
import json, sys, time
from whoosh import writing
from searchkit.index import store
started = time.perf_counter()
if sys.argv[2] == "bulk":
    segments = store.optimize(sys.argv[1]).segments_before
else:
    writer = store.open_writer(store.open_index(sys.argv[1]))
    segments = len(writer.segments)
    store.commit(writer, mergetype=writing.OPTIMIZE)
print(json.dumps({"seconds": time.perf_counter() - started, "segments": segments}))
"""

_WORD = re.compile(rb"[A-Za-z]+")


def enciphered(copy: int):
    """A function writing each ASCII word of a text (bytes) in copy ``copy``'s made-up
    language: its stem's letters replaced by that copy's (vowels by vowels, consonants by
    consonants, so that the stemmer finds the same regions in it), its ending and case kept
    (in copy 1, "Talks" -> "Gejbs"), stop words left as they are."""
    rng = random.Random(copy)
    vowels, consonants = "aeiou", "bcdfghjklmnpqrstvz"  # (w, x and y kept: the stemmer's)
    letters = {**dict(zip(vowels, rng.sample(vowels, len(vowels)))),
               **dict(zip(consonants, rng.sample(consonants, len(consonants))))}
    table = bytes.maketrans("".join(letters).encode(), "".join(letters.values()).encode())
    stem = EnglishStemmer().stem
    made = {word.encode(): word.encode() for word in STOP_WORDS if word.isascii()}

    def word(match) -> bytes:
        found = match.group()
        lower = found.lower()
        if lower not in made:
            root = stem(lower.decode()).encode()
            root = root if lower.startswith(root) else lower
            made[lower] = root.translate(table) + lower[len(root):]
        out = made[lower]
        if len(found) > 1 and found.isupper():
            return out.upper()
        return out[:1].upper() + out[1:] if found[:1].isupper() else out

    return lambda text: _WORD.sub(word, text)


def reworded(copy: int, sources: list):
    """A function writing each ASCII word of a text (bytes) as another word of the article
    files under ``sources`` (a permutation of their words but stop words, lower-cased, made
    for copy ``copy``), its case kept: the copy's vocabulary is the corpus's."""
    words = set()
    for source in sources:
        for path in source.rglob("*.txt"):
            words.update(w.lower() for w in _WORD.findall(path.read_bytes()))
    words = sorted(words - {w.encode() for w in STOP_WORDS if w.isascii()})
    shuffled = words[:]
    random.Random(copy).shuffle(shuffled)
    made = dict(zip(words, shuffled))

    def word(match) -> bytes:
        found = match.group()
        out = made.get(found.lower(), found)
        if len(found) > 1 and found.isupper():
            return out.upper()
        return out[:1].upper() + out[1:] if found[:1].isupper() else out

    return lambda text: _WORD.sub(word, text)


def write_copy(sources: list, folder: Path, copy: int, same_words: bool = False) -> list:
    """Copy ``copy`` of the corpus folders ``sources`` under ``folder`` (its folders): its
    article files enciphered (``same_words``: reworded), anything else (a manifest) as it
    is."""
    cipher, made = (reworded(copy, sources) if same_words else enciphered(copy)), []
    for source in sources:
        target = folder / f"copy{copy}" / source.name
        for path in sorted(source.rglob("*")):
            out = target / path.relative_to(source)
            if path.is_dir():
                continue
            out.parent.mkdir(parents=True, exist_ok=True)
            data = path.read_bytes()
            out.write_bytes(cipher(data) if path.suffix == ".txt" else data)
        made.append(target)
    return made


def measure(paths: list, processes: int, scratch: Path, optimize: bool = False,
            queries: bool = False) -> dict:
    index, rows, db = scratch / "index", scratch / "rows.json", scratch / "fts5.db"
    staged = scratch / "rows.db"
    spec = {"paths": [str(p) for p in paths], "index": str(index), "processes": processes}
    built = run_json_sampled(["-c", STAGED_BUILD, json.dumps(spec)])
    paragraphs = run_json(["-c", DUMP, str(index), str(rows)])  # (it prints their number)
    run_json(["-c", STAGE, str(rows), str(staged)])
    fts5 = run_json_sampled(["-c", FTS5_BUILD, str(staged), str(db), FTS5_SCHEMA])
    staged.unlink()
    asked = answered(index, db, rows, scratch) if queries else None
    rows.unlink()
    db.unlink()
    changed = sorted(next(p for p in paths if scratch in p.parents).glob("*.txt"))[0]
    original = changed.read_bytes()
    changed.write_bytes(original + b"\n\nA paragraph added to measure an update.\n")
    try:
        updated = run_json_sampled(["-c", UPDATE, json.dumps(spec)])
    finally:
        changed.write_bytes(original)
    found = {"paragraphs": paragraphs, "searchkit": built, "fts5": fts5, "update": updated,
             "queries": asked}
    if optimize:
        for how in ("bulk", "whoosh"):
            merged = scratch / f"index-{how}"
            shutil.copytree(index, merged)
            print(f"  optimize ({how}) ...", file=sys.stderr)
            found[f"optimize {how}"] = run_json_sampled(["-c", OPTIMIZE, str(merged), how])
            shutil.rmtree(merged)
    return found


def answered(index: Path, db: Path, rows_file: Path, scratch: Path) -> dict:
    """The query sets' latencies on this size's index and FTS5's database (the sets drawn at
    the smallest size, from its paragraphs, and kept in ``scratch``)."""
    short, pasted = scratch / "queries.json", scratch / "pasted.json"
    if not short.exists():
        rows = json.loads(rows_file.read_text())
        short.write_text(json.dumps(make_queries(rows)))
        pasted.write_text(json.dumps(make_pasted(rows)))
    sentences = json.loads(pasted.read_text())
    (scratch / "sentences.json").write_text(json.dumps([text for text, _ in sentences]))
    group_of = {row[0]: row[3] for row in json.loads(rows_file.read_text())}
    passes = {"searchkit": [], "fts5": [], "searchkit pasted": [], "fts5 pasted": []}
    for _ in range(2):
        passes["searchkit"].append(run_json(["-c", SEARCHKIT_QUERIES, str(index), str(short)]))
        passes["fts5"].append(run_json(["-c", FTS5_QUERIES, str(db), str(short), "same"]))
        passes["searchkit pasted"].append(run_json(
            ["-c", SEARCHKIT_QUERIES, str(index), str(scratch / "sentences.json")]))
        passes["fts5 pasted"].append(run_json(
            ["-c", FTS5_QUERIES, str(db), str(scratch / "sentences.json"), "words"]))
    times = fastest(passes)
    found = {name: (percentile(ts, 0.5), percentile(ts, 0.95)) for name, ts in times.items()}
    for name in ("searchkit pasted", "fts5 pasted"):
        found[name + " success"] = sum(
            1 for groups, (_, pid) in zip(passes[name][0]["groups"], sentences)
            if groups and groups[0] == group_of[pid]) / len(sentences)
    found["cold"] = sorted(time_process(
        ["-m", "searchkit", "search", COLD_WORD, "--index", str(index), "-n", "10",
         "--format", "plain"]) for _ in range(5))[2]
    from searchkit.index import durable, layout, store
    found["segments"] = len(durable.read_toc(store.storage(index),
                                             layout.newest_generation(index)).segments)
    found["fts5 cold"] = sorted(
        time_process(["-c", FTS5_COLD, str(db), COLD_WORD]) for _ in range(5))[2]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", default="1,2,4",
                        help="corpus sizes, in copies of `large` (default 1,2,4)")
    parser.add_argument("--processes", type=int, choices=(1, 2), default=2)
    parser.add_argument("--same-words", action="store_true",
                        help="copies in the corpus's own words, shuffled (no new words)")
    parser.add_argument("--optimize", action="store_true",
                        help="then merge each index into one segment, in bulk and by Whoosh")
    parser.add_argument("--queries", action="store_true",
                        help="then time speed.py's query sets on each size's index and FTS5's")
    args = parser.parse_args()
    sizes = sorted({int(k) for k in args.copies.split(",")})
    if not (DATA / "bbc").is_dir():
        sys.exit(f"needs the corpora in {DATA} (see its README)")
    with tempfile.TemporaryDirectory(prefix="searchkit-scaling-") as folder:
        scratch = Path(folder)
        large = corpus_paths("large", scratch / "large")
        found, copies = {}, {}
        for size in sizes:
            for copy in range(1, size):
                if copy not in copies:
                    copies[copy] = write_copy(large, scratch, copy, args.same_words)
            paths = large + [path for copy in range(1, size) for path in copies[copy]]
            print(f"building {size} x large ...", file=sys.stderr)
            found[size] = measure(paths, args.processes, scratch, args.optimize,
                                  args.queries)
    report(found, args.processes, args.same_words)


def report(found: dict, processes: int, same_words: bool) -> None:
    print(f"searchkit ({processes} process{'es' if processes > 1 else ''}) and FTS5, "
          "each size's build in a fresh process; the copies "
          + ("in the corpus's own words, shuffled" if same_words else "enciphered"))
    stages = list(found[min(found)]["searchkit"]["memory"])
    print("| size | paragraphs | searchkit build | paragraphs/s | peak (PSS) | "
          "stages: reading, grouping, writing | this process: "
          f"{', '.join(stages)} | FTS5 build | FTS5 peak | one changed file: update, peak |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for size, row in found.items():
        built, fts5 = row["searchkit"], row["fts5"]
        seconds = dict(built["stages"])
        print(f"| {size} x large | {row['paragraphs']:,} | {built['seconds']:.1f} s | "
              f"{row['paragraphs'] / built['seconds']:,.0f} | "
              f"{built['peak_pss_kb'] / 1024:.0f} MB | "
              f"{seconds.get('reading files', 0):.1f}, "
              f"{seconds.get('grouping near duplicates', 0):.1f}, "
              f"{seconds.get('writing segments', 0):.1f} s | "
              f"{', '.join(str(built['memory'][s]) for s in stages)} MB | "
              f"{fts5['seconds']:.1f} s | {fts5['peak_pss_kb'] / 1024:.0f} MB | "
              f"{row['update']['seconds']:.1f} s, {row['update']['peak_pss_kb'] / 1024:.0f} MB |")
    if "optimize bulk" in found[min(found)]:
        print("\n| size | segments merged | bulk merge: seconds, peak | Whoosh's merge: seconds, "
              "peak | bulk merge's speed over Whoosh's |")
        print("|---|---|---|---|---|")
        for size, row in found.items():
            bulk, whoosh = row["optimize bulk"], row["optimize whoosh"]
            print(f"| {size} x large | {bulk['segments']} | {bulk['seconds']:.1f} s, "
                  f"{bulk['peak_pss_kb'] / 1024:.0f} MB | {whoosh['seconds']:.1f} s, "
                  f"{whoosh['peak_pss_kb'] / 1024:.0f} MB | "
                  f"{whoosh['seconds'] / bulk['seconds']:.1f}x |")
    if found[min(found)]["queries"]:
        print("\n| size | short queries p50 / p95 | FTS5 (same work) p50 / p95 | ratio of p50s "
              "| pasted p50, success@1 | FTS5 pasted p50, success@1 | cold search | FTS5 cold "
              "| segments |")
        print("|---|---|---|---|---|---|---|---|---|")
        ms = 1000
        for size, row in found.items():
            q = row["queries"]
            print(f"| {size} x large | {q['searchkit'][0] * ms:.1f} / {q['searchkit'][1] * ms:.1f}"
                  f" ms | {q['fts5'][0] * ms:.1f} / {q['fts5'][1] * ms:.1f} ms | "
                  f"{q['searchkit'][0] / q['fts5'][0]:.2f}x | "
                  f"{q['searchkit pasted'][0] * ms:.1f} ms, {q['searchkit pasted success']:.3f} | "
                  f"{q['fts5 pasted'][0] * ms:.1f} ms, {q['fts5 pasted success']:.3f} | "
                  f"{q['cold'] * ms:.0f} ms | {q['fts5 cold'] * ms:.0f} ms | {q['segments']} |")
    if len(found) < 2:
        return
    low, high = found[min(found)], found[max(found)]
    added = (high["paragraphs"] - low["paragraphs"]) / 100_000
    growth = {"searchkit's peak": (high["searchkit"]["peak_pss_kb"]
                                   - low["searchkit"]["peak_pss_kb"]) / 1024,
              "FTS5's peak": (high["fts5"]["peak_pss_kb"] - low["fts5"]["peak_pss_kb"]) / 1024,
              "a one-file update's peak": (high["update"]["peak_pss_kb"]
                                           - low["update"]["peak_pss_kb"]) / 1024}
    if "optimize bulk" in low:
        for how in ("bulk", "whoosh"):
            growth[f"optimize ({how})'s peak"] = (high[f"optimize {how}"]["peak_pss_kb"]
                                                  - low[f"optimize {how}"]["peak_pss_kb"]) / 1024
    for stage in stages:
        growth[f"this process, {stage}"] = (high["searchkit"]["memory"][stage]
                                            - low["searchkit"]["memory"][stage])
    print("growth per 100,000 paragraphs: " + "; ".join(
        f"{name} {mb / added:.0f} MB" for name, mb in growth.items()))


if __name__ == "__main__":
    main()
