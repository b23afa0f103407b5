"""Pasted sentences: is the paragraph a sentence was pasted from the first result?

    python bench/pasted.py [--corpus small|large|bbc] [--count N] [--seed S] [--show]

A user who wants to know who said something pastes it. From the paragraphs of the corpus
(BBC + Reuters by default, built as bench/speed.py builds them; read in place from
../shared/data) this draws N sentences of 12-40 words (seed S), each edited as pasting and
retyping edits text, and counted by the edits it had:

- a word dropped (half of them);
- quote marks changed: straight ones curled or curled ones straightened, or a few words put
  in 'single quotes' (a quarter);
- the end made a question: its last punctuation replaced by "?" (15 %);
- punctuation typed between words: " - " (a dash), " + ", "&" for "and", "a/b" for two words,
  "+" or "-" glued to a number ("+1", "-5"), "-" glued to a stop word ("-the") or " -- " (a
  quarter). A dash glued to an indexed word ("-Hambros") is not among them: that is the query
  language's exclusion, typed on purpose (``--plain`` reads it as text).

searchkit: one open Searcher, ``search(q, limit=10)`` as typed (query syntax read where it is
valid: what a user pasting at the command line gets) and with ``syntax=False`` (``--plain``).
Baseline in the same run: SQLite FTS5 (porter) over the same paragraphs, every word of the
sentence quoted and OR-ed, ranked by bm25() with searchkit's title weight, duplicates
collapsed by searchkit's own groups (bench/speed.py's "FTS5 doing the same work").
success@1: the first result is the source paragraph or a member of its near-duplicate group.
Also: queries refused (a QueryError), queries that found nothing, p50 latency of each.
"""

import argparse
import json
import random
import re
import shutil
import statistics
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speed  # noqa: E402  (the corpus, builds and FTS5 of bench/speed.py)

SEARCHKIT_PASTED = """
import json, sys, time
import searchkit
index, queries, syntax = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3] == "syntax"
options = {} if sys.argv[3] == "as typed" else {"syntax": syntax}  # "as typed": an older version
out = {"times": [], "groups": [], "refused": [], "notes": 0}
with searchkit.open_index(index) as searcher:
    for q in queries[:20]:  # warm-up
        try:
            searcher.search(q, limit=10, **options)
        except searchkit.QueryError:
            pass
    for q in queries:
        started = time.perf_counter()
        try:
            results = searcher.search(q, limit=10, **options)
            groups = [g.leader.group for g in results.groups]
            out["notes"] += any(n.startswith("read as text")
                                for n in getattr(results, "notes", ()))
        except searchkit.QueryError as error:
            groups = []
            out["refused"].append([q, str(error)])
        out["times"].append(time.perf_counter() - started)
        out["groups"].append(groups)
print(json.dumps(out))
"""

EDITS = ("dropped word", "quotes changed", "ends in ?", "punctuation typed")


def _punctuate(words: list, rng: random.Random) -> list:
    """One piece of punctuation typed into the words, as people type it."""
    k = rng.randrange(1, len(words))
    kind = rng.randrange(6)
    if kind == 0:
        return words[:k] + ["-"] + words[k:]
    if kind == 1:
        return words[:k] + ["+"] + words[k:]
    if kind == 2:
        ands = [i for i, w in enumerate(words) if w.lower() == "and"]
        if ands:
            return words[:ands[0]] + ["&"] + words[ands[0] + 1:]
        return words[:k] + ["&"] + words[k:]
    if kind == 3:
        return words[:k - 1] + [words[k - 1] + "/" + words[k]] + words[k + 1:]
    if kind == 4:
        return words[:k] + [rng.choice(("+1", "-5", "+2.5%", "-3"))] + words[k:]
    stops = [i for i, w in enumerate(words) if w.lower() in ("the", "a", "of", "to", "in")]
    if stops:  # a dash glued to a stop word: nothing to leave out, so text
        return words[:stops[0]] + ["-" + words[stops[0]]] + words[stops[0] + 1:]
    return words[:k] + ["--"] + words[k:]


def _requote(sentence: str, rng: random.Random) -> str:
    if rng.random() < 0.4:
        words = sentence.split()
        if len(words) > 6:
            k = rng.randrange(len(words) - 4)
            n = rng.randint(2, 4)
            words[k] = "'" + words[k]
            words[k + n - 1] += "'"
            return " ".join(words)
    if re.search("[“”‘’]", sentence):
        return sentence.translate(str.maketrans("“”‘’", "\"\"''"))
    return re.sub(r'"([^"]*)"', "“\\1”", sentence)


def make_sentences(rows: list, count: int, seed: int) -> list:
    """[sentence, source paragraph id, [edits]] for ``count`` sentences."""
    rng = random.Random(seed)
    made = []
    while len(made) < count:
        pid, span = speed.cut_span(rows, rng)
        edits = []
        if rng.random() < 0.5:
            del span[rng.randrange(len(span))]
            edits.append("dropped word")
        if rng.random() < 0.25:
            span = _punctuate(span, rng)
            edits.append("punctuation typed")
        sentence = " ".join(span)
        if rng.random() < 0.25:
            sentence = _requote(sentence, rng)
            edits.append("quotes changed")
        if rng.random() < 0.15:
            sentence = re.sub(r"[.!?,;:\"'”’]*$", "", sentence) + "?"
            edits.append("ends in ?")
        made.append([sentence, pid, edits])
    return made


def success(groups: list, made: list, group_of: dict, edit=None) -> tuple:
    """(success@1, how many sentences) over the sentences (with ``edit``, if given)."""
    hits = [bool(found) and found[0] == group_of[pid]
            for found, (_, pid, edits) in zip(groups, made) if edit is None or edit in edits]
    return (statistics.mean(hits) if hits else float("nan")), len(hits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=("small", "large", "bbc"), default="small")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--show", action="store_true", help="print the sentences missed")
    parser.add_argument("--compare", type=Path, metavar="CHECKOUT",
                        help="also another version's searchkit (a checkout of it: git worktree "
                        "add ../main main), with an index built by it, in the same run")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="searchkit-pasted-"))
    try:
        run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def build(args, tmp: Path) -> tuple:
    paths = [str(p) for p in speed.corpus_paths(args.corpus, tmp)]
    index, db, rows_file = tmp / "index", tmp / "fts5.db", tmp / "paragraphs.json"
    speed.run_json(["-c", speed.SEARCHKIT_BUILD, json.dumps(
        {"paths": paths, "index": str(index), "processes": 2})])
    if args.compare:
        _with_checkout(args.compare, ["-c", speed.SEARCHKIT_BUILD, json.dumps(
            {"paths": paths, "index": str(tmp / "compared"), "processes": 2})])
    speed.subprocess.run([speed.PY, "-c", speed.DUMP, str(index), str(rows_file)], check=True,
                         capture_output=True)
    staged = tmp / "paragraphs.db"
    speed.run_json(["-c", speed.STAGE, str(rows_file), str(staged)])
    speed.run_json(["-c", speed.FTS5_BUILD, str(staged), str(db), speed.FTS5_SCHEMA])
    speed.log("built searchkit's index and FTS5's")
    return index, db, json.loads(rows_file.read_text())


def _with_checkout(checkout: Path, args: list) -> dict:
    """``speed.run_json(args)`` with the searchkit of ``checkout``: run from inside it (``python
    -c`` puts the working folder first on the import path)."""
    done = speed.subprocess.run([speed.PY, *args], check=True, capture_output=True, text=True,
                                cwd=checkout)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(args, tmp: Path) -> None:
    index, db, rows = build(args, tmp)
    made = make_sentences(rows, args.count, args.seed)
    queries = tmp / "pasted.json"
    queries.write_text(json.dumps([sentence for sentence, _, _ in made]))
    group_of = {r[0]: r[3] for r in rows}
    found = {}
    if args.compare:
        found[f"{args.compare.name} as typed"] = _with_checkout(
            args.compare,
            ["-c", SEARCHKIT_PASTED, str(tmp / "compared"), str(queries), "as typed"])
        speed.log(f"{args.compare.name} done")
    for name, args_ in (("searchkit", ["-c", SEARCHKIT_PASTED, str(index), str(queries),
                                       "syntax"]),
                        ("searchkit --plain", ["-c", SEARCHKIT_PASTED, str(index),
                                               str(queries), "plain"]),
                        ("FTS5", ["-c", speed.FTS5_QUERIES, str(db), str(queries), "words"])):
        found[name] = speed.run_json(args_)
        speed.log(f"{name} done")
    print(f"\n{len(made)} pasted sentences from {len(rows)} paragraphs ({args.corpus}, "
          f"seed {args.seed})\n")
    print("| sentences | n | " + " | ".join(
        name.replace("FTS5", "FTS5 (words quoted)") for name in found) + " |")
    print("|---|---|" + "---|" * len(found))
    for edit in (None,) + EDITS:
        cells = []
        for name in found:
            rate, n = success(found[name]["groups"], made, group_of, edit)
            cells.append(f"{rate:.3f}")
        print(f"| {edit or 'all'} | {n} | " + " | ".join(cells) + " |")
    for label, key in (("refused", "refused"),):
        print(f"| {label} | | " + " | ".join(
            str(len(v.get(key, []))) if key in v else "—" for v in found.values()) + " |")
    print("| found nothing | | " + " | ".join(
        str(sum(not g for g in v["groups"]) - len(v.get("refused", [])))
        for v in found.values()) + " |")
    print("| with a read-as-text note | | " + " | ".join(
        str(v["notes"]) if "notes" in v else "—" for v in found.values()) + " |")
    print("| p50 latency | | " + " | ".join(
        f"{speed.percentile(v['times'], 0.5) * 1000:.1f} ms" for v in found.values()) + " |")
    if args.show:
        for groups, (sentence, pid, edits) in zip(found["searchkit"]["groups"], made):
            if not groups or groups[0] != group_of[pid]:
                print(f"missed ({', '.join(edits) or 'as cut'}): {sentence}\n    from {pid}",
                      file=sys.stderr)
        for query, error in found["searchkit"]["refused"]:
            print(f"refused: {query}: {error}", file=sys.stderr)


if __name__ == "__main__":
    main()
