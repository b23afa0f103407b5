"""An index kept for months: daily updates of a changing news folder, checked against fresh
builds of the same folder.

    python bench/lifecycle.py [--days N] [--seed S] [--paths] [--keep DIR]

A copy of BBC articles (../shared/data/bbc, read in place; 60 files and 15 reprints to start)
changes every "day" at random (seed S): files added, reprinted elsewhere with a word changed
and a source and date, edited (a word, a paragraph added or dropped, a date), renamed, moved
to another folder, deleted, copied, re-encoded (UTF-16, cp1252, UTF-8 with BOM), touched;
folders renamed or split, a manifest written. Then `searchkit index FOLDER --source BBC`
runs as a user runs it (mostly with --prune; some days another --source; with --paths some
days only two of the folders; a day in three first stopped by Ctrl-C at a random moment;
now and then `optimize`, itself sometimes stopped; the index folder sometimes moved, or the
whole lot copied elsewhere and the original deleted), and a second run must find nothing to do.

After each day that indexed the whole folder with --prune and the usual source, the index is
compared with a fresh build: `search --format jsonl` (a query set plus words of the files
changed that day, each as ranked, `--no-dedup` and `--sort -date`), `duplicates`, `stats`.
A difference is counted as "scores" when the same results come with other scores (an update
keeps replaced paragraphs in BM25's statistics until a merge: see docs/safety.md), and as a
problem otherwise. Without --paths ids are compared too. Also checked each day: exit statuses
and the summary line, `searchkit check`, files left in the index folder beside its commit, its
size against the fresh build's, and a `searchkit repl` and a library Searcher left open
(reopened when `is_current()` says so) answering as the command line does.
"""

import argparse
import json
import os
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BBC = REPO.parent / "shared" / "data" / "bbc"
SEARCHKIT = [sys.executable, "-m", "searchkit"]
SOURCES = ["Reuters", "AFP", "AP", "Guardian"]
QUERIES = ["profit", "election", '"chief executive"', "mobile phone game", "quokka", "zebra*",
           "rapidly officials yesterday", "source:Reuters", "date:2005-06", "title:market"]


def run(*args):
    done = subprocess.run([*SEARCHKIT, *map(str, args)], capture_output=True, text=True,
                          cwd=REPO)
    return done.returncode, done.stdout, done.stderr


def interrupted(args, after):
    """`searchkit ARGS` sent Ctrl-C (its whole process group, as a terminal does) after
    ``after`` seconds."""
    process = subprocess.Popen([*SEARCHKIT, *map(str, args)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True,
                               cwd=REPO)
    time.sleep(after)
    try:
        os.killpg(process.pid, signal.SIGINT)
    except ProcessLookupError:
        pass
    _, err = process.communicate()
    return process.returncode, err


class Folder:
    """The news folder and what happens to it."""

    def __init__(self, root: Path, rng: random.Random):
        self.root, self.rng = root, rng
        self.pool = sorted(p for d in BBC.iterdir() if d.is_dir() for p in d.iterdir())
        rng.shuffle(self.pool)
        self.folders = ["business", "sport", "tech", "politics"]
        for name in self.folders:
            (root / name).mkdir(parents=True)
        self.count = 0

    def name(self, suffix=".txt"):
        self.count += 1
        return f"n{self.count:04d}{suffix}"

    def files(self):
        return sorted(p for p in self.root.rglob("*") if p.suffix in (".txt", ".md"))

    def pick(self):
        return self.rng.choice(self.files())

    def text(self, path):
        data = path.read_bytes()
        for encoding in ("utf-8", "utf-16", "cp1252"):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                pass
        return data.decode("latin-1")

    def somewhere(self):
        folder = self.root / self.rng.choice(self.folders)
        return self.rng.choice([folder] + [d for d in folder.rglob("*") if d.is_dir()])

    def add(self):
        to = self.somewhere() / self.name(self.rng.choice([".txt", ".txt", ".md"]))
        to.write_bytes(self.pool.pop().read_bytes())
        return f"add {to.relative_to(self.root)}"

    def reprint(self):
        original = self.pick()
        blocks = [b for b in self.text(original).split("\n\n") if b.strip()]
        kept = [b for b in blocks[1:] if len(b.split()) > 12][:self.rng.randint(1, 6)]
        if not kept:
            return self.add()
        words = kept[0].split()
        words[self.rng.randrange(len(words))] = self.rng.choice(["rapidly", "officials"])
        kept[0] = " ".join(words)
        day = f"{self.rng.randint(1, 28)} {self.rng.choice(['March', 'April', 'May'])} 2005"
        to = self.root / self.rng.choice(self.folders) / self.name()
        to.write_text(f"{blocks[0]}\n\nSource: {self.rng.choice(SOURCES)}\n\nPublished: {day}"
                      "\n\n" + "\n\n".join(kept) + "\n", encoding="utf-8")
        return f"reprint {original.relative_to(self.root)} as {to.relative_to(self.root)}"

    def edit(self):
        path = self.pick()
        data = path.read_bytes()
        encoding = "utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8"
        blocks = self.text(path).split("\n\n")
        body = [k for k in range(1, len(blocks)) if len(blocks[k].split()) > 12]
        how = self.rng.choice(["word", "append", "drop", "date"])
        if how == "word" and body:
            k = self.rng.choice(body)
            words = blocks[k].split()
            words[self.rng.randrange(len(words))] = f"zebra{self.count}"
            self.count += 1
            blocks[k] = " ".join(words)
        elif how == "drop" and len(body) > 1:
            del blocks[self.rng.choice(body)]
        elif how == "date":
            dated = [k for k, b in enumerate(blocks) if b.startswith("Published:")]
            blocks.insert(1, f"Published: {self.rng.randint(1, 28)} June 2005")
            for k in reversed(dated):
                del blocks[k + 1]
        else:
            blocks.append("Officials said the quokka count rose again on Tuesday morning.")
        path.write_bytes("\n\n".join(blocks).encode(encoding, "replace"))
        return f"edit ({how}) {path.relative_to(self.root)}"

    def rename(self):
        path = self.pick()
        to = (path.parent if self.rng.random() < 0.5 else self.somewhere()) / self.name(
            path.suffix)
        path.rename(to)
        return f"rename {path.relative_to(self.root)} -> {to.relative_to(self.root)}"

    def delete(self):
        path = self.pick()
        path.unlink()
        return f"delete {path.relative_to(self.root)}"

    def copy(self):
        path = self.pick()
        to = self.somewhere() / self.name(path.suffix)
        shutil.copy(path, to)
        return f"copy {path.relative_to(self.root)} -> {to.relative_to(self.root)}"

    def reencode(self):
        path = self.pick()
        encoding = self.rng.choice(["utf-16", "cp1252", "utf-8-sig"])
        try:
            path.write_bytes(self.text(path).encode(encoding))
        except UnicodeEncodeError:
            return f"(not re-encoded: {path.relative_to(self.root)})"
        return f"re-encode {path.relative_to(self.root)} as {encoding}"

    def touch(self):
        path = self.pick()
        os.utime(path, (time.time() + self.rng.randint(-5000, 5000),) * 2)
        return f"touch {path.relative_to(self.root)}"

    def rename_folder(self):
        k = self.rng.randrange(len(self.folders))
        old, self.folders[k] = self.folders[k], f"{self.folders[k].split('_')[0]}_{self.count}"
        (self.root / old).rename(self.root / self.folders[k])
        self.count += 1
        return f"rename folder {old} -> {self.folders[k]}"

    def split_folder(self):
        parent = self.root / self.rng.choice(self.folders)
        sub = parent / f"part{self.count}"
        self.count += 1
        sub.mkdir()
        for path in [p for p in self.files() if p.parent == parent][:3]:
            path.rename(sub / path.name)
        return f"split {sub.relative_to(self.root)}"

    def manifest(self):
        folder = self.root / self.rng.choice(self.folders)
        files = [p for p in folder.iterdir() if p.suffix in (".txt", ".md")]
        rows = ["file,date,source"] + [
            f"{p.name},2005-0{self.rng.randint(1, 9)}-1{self.rng.randint(0, 9)},"
            f"{self.rng.choice(SOURCES + [''])}"
            for p in self.rng.sample(files, min(3, len(files)))]
        (folder / "manifest.csv").write_text("\n".join(rows) + "\n")
        return f"manifest in {folder.relative_to(self.root)}"

    def changes(self):
        kinds = [(self.add, 6), (self.reprint, 4), (self.edit, 5), (self.rename, 2),
                 (self.delete, 2), (self.reencode, 1), (self.touch, 2), (self.copy, 1),
                 (self.rename_folder, 0.3), (self.split_folder, 0.3), (self.manifest, 0.5)]
        chosen = self.rng.choices([k for k, _ in kinds], [w for _, w in kinds],
                                  k=self.rng.randint(2, 9))
        return [change() for change in chosen]


def jsonl(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def plain(record, ids):
    """A result as compared: rounded score; without ids, its places as sets."""
    record = dict(record)
    if record.get("score") is not None:
        record["score"] = round(record["score"], 3)
    if not ids:
        for name in ("id", "article_id", "group", "rank"):
            record.pop(name, None)
        for name in ("duplicates", "members"):
            if name in record:
                record[name] = sorted(json.dumps({k: v for k, v in d.items() if k not in (
                    "id", "article_id")}, sort_keys=True) for d in record[name])
    return record


def places(results):
    return sorted(sorted([r.get("path"), r.get("paragraph")] for r in [x] + [
        d if isinstance(d, dict) else json.loads(d) for d in x.get("duplicates", [])])
        for x in results)


def compare(kept, fresh, queries, ids, tally):
    """Differences between the kept index and a fresh build, counted in ``tally``."""
    problems = []
    for query in queries:
        for extra in ([], ["--no-dedup"], ["--sort", "-date"]):
            answers = [run("search", "--index", d, "-n", "5000", "--format", "jsonl", *extra,
                           "--", query) for d in (kept, fresh)]
            (k_rc, k_out, k_err), (f_rc, f_out, _) = answers
            if k_rc != f_rc:
                problems.append(f"search {query!r} {extra}: status {k_rc}, fresh {f_rc}: "
                                f"{k_err.strip()[-200:]}")
                continue
            a, b = ([plain(r, ids) for r in jsonl(out)] for out in (k_out, f_out))
            if a == b:
                tally["same"] += 1
            elif [r.get("score") for r in a] != [r.get("score") for r in b] and \
                    places(a) == places(b):
                tally["scores"] += 1
            else:
                tally["problems"] += 1
                first = next(i for i, (x, y) in enumerate(zip(a + [{}], b + [{}])) if x != y)
                problems.append(f"search {query!r} {extra} differs at rank {first + 1}: "
                                f"{json.dumps(a[first:first + 1])[:300]} / fresh "
                                f"{json.dumps(b[first:first + 1])[:300]}")
    for command in (["duplicates", "-n", "100000", "--format", "jsonl"],
                    ["stats", "--format", "json"]):
        answers = [run(command[0], "--index", d, *command[1:]) for d in (kept, fresh)]
        if command[0] == "stats":
            got = [json.loads(out) for _, out, _ in answers]
            for stats in got:
                del stats["index"], stats["settings"]["built"], stats["settings"]["indexed_paths"]
        else:
            got = [sorted(json.dumps(plain(r, ids), sort_keys=True) for r in jsonl(out))
                   for _, out, _ in answers]
        if got[0] != got[1]:
            tally["problems"] += 1
            problems.append(f"{command[0]} differs from a fresh build's")
    return problems


def outside_commit(index_dir):
    """Files of the index folder that its current commit's record does not name."""
    tocs = [int(m.group(1)) for n in os.listdir(index_dir)
            if (m := re.fullmatch(r"_MAIN_(\d+)\.toc", n))]
    record = json.loads((index_dir / f"checksums-{max(tocs)}.json").read_text())
    named = set(record["files"]) | {f"checksums-{max(tocs)}.json", "MAIN_WRITELOCK"}
    return sorted(set(os.listdir(index_dir)) - named)


def size(index_dir, names=None):
    return sum(p.stat().st_size for p in index_dir.iterdir()
               if p.is_file() and (names is None or p.name in names))


class Repl:
    """`searchkit repl` left open, its input piped."""

    def __init__(self, index_dir):
        self.process = subprocess.Popen([*SEARCHKIT, "repl", "--index", str(index_dir)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, cwd=REPO)
        os.set_blocking(self.process.stdout.fileno(), False)

    def ask(self, line):
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        answer, quiet, ends = "", 0, time.monotonic() + 30
        while time.monotonic() < ends and quiet < 3:
            if select.select([self.process.stdout], [], [], 0.3)[0]:
                answer += self.process.stdout.read() or ""
                quiet = 0
            elif answer:
                quiet += 1
        return answer

    def close(self):
        self.process.stdin.close()
        self.process.wait(30)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--paths", action="store_true",
                        help="some days index two folders only (ids then compared as places)")
    parser.add_argument("--keep", type=Path, help="work in DIR and keep it")
    args = parser.parse_args()
    if not BBC.is_dir():
        sys.exit(f"no BBC corpus at {BBC}")
    sys.path.insert(0, str(REPO))
    import searchkit

    base = args.keep or Path(tempfile.mkdtemp(prefix="lifecycle-"))
    rng = random.Random(args.seed)
    machine = base / "machine-0"
    news, index_dir, fresh = machine / "news", machine / "index", base / "fresh"
    folder = Folder(news, rng)
    for _ in range(60):
        folder.add()
    for _ in range(15):
        folder.reprint()
    tally = {"same": 0, "scores": 0, "problems": 0}
    problems, ratios, interrupts = [], [], []
    repl = searcher = None
    try:
        for day in range(1, args.days + 1):
            changes = folder.changes() if day > 1 else []
            event = rng.random()
            if day > 3 and event < 0.06:
                moved = machine / f"index-{day}"
                index_dir.rename(moved)
                index_dir = moved
                changes.append(f"index folder moved to {moved.name}")
            elif day > 3 and event < 0.10:
                elsewhere = base / f"machine-{day}"
                shutil.copytree(machine, elsewhere, symlinks=True)
                shutil.rmtree(machine)
                machine, news, index_dir = elsewhere, elsewhere / "news", elsewhere / "index"
                folder.root = news
                changes.append(f"all copied to {elsewhere.name}, the original deleted")
            if any(c.startswith(("index folder moved", "all copied")) for c in changes):
                for left_open in (repl, searcher):
                    if left_open is not None:
                        left_open.close()
                repl = searcher = None
            paths = [news]
            if args.paths and day > 2 and rng.random() < 0.12:
                paths = [news / f for f in rng.sample(folder.folders, 2)]
            prune, source = rng.random() < 0.85, "BBC" if rng.random() < 0.85 else "Other Desk"
            index = ["index", *paths, "--index", index_dir, "--source", source] + (
                ["--prune"] if prune else [])
            print(f"day {day}: {'; '.join(changes) or 'first build'}", flush=True)
            if day > 1 and rng.random() < 0.3:
                status, err = interrupted(index, rng.uniform(0.05, 1.6))
                interrupts.append(status)
                if status not in (0, 3, 130) or (status == 130 and "interrupted: " not in err
                                                 and "before it began" not in err):
                    problems.append(f"day {day}: Ctrl-C: status {status}: {err[-300:]}")
                if run("check", "--index", index_dir)[0]:
                    problems.append(f"day {day}: `check` fails after Ctrl-C")
            for toc in index_dir.glob("_MAIN_*.toc") if index_dir.exists() else ():
                then = toc.stat().st_mtime - 86400  # a day passes: today's commits are old
                os.utime(toc, (then, then))
            status, out, err = run(*index)
            summary = re.search(r"files: \d+ added.*skipped", err)
            shown = " ".join(map(str, index)).replace(f"{base}/", "")
            print(f"  searchkit {shown}: status {status}; "
                  f"{summary.group(0) if summary else err.strip()[-200:]}", flush=True)
            skipped = summary and not summary.group(0).endswith(" 0 skipped")
            if status not in (0, 3) or (status == 3) != bool(skipped) or out:
                problems.append(f"day {day}: index status {status}: {err[-300:]}")
                continue
            again = re.search(r"files: (\d+) added, (\d+) updated, (\d+) removed",
                              run(*index)[2])
            if again and again.groups() != ("0", "0", "0"):
                problems.append(f"day {day}: a second run changed things: {again.group(0)}")
            if rng.random() < 0.15:
                if rng.random() < 0.4:
                    status, err = interrupted(["optimize", "--index", index_dir],
                                              rng.uniform(0.05, 0.8))
                    interrupts.append(status)
                    if status not in (0, 130):
                        problems.append(f"day {day}: optimize stopped: status {status}")
                if run("optimize", "--index", index_dir)[0]:
                    problems.append(f"day {day}: optimize failed")
            if run("check", "--index", index_dir)[0]:
                problems.append(f"day {day}: `check` fails")
            if not (prune and source == "BBC" and paths == [news]):
                continue
            shutil.rmtree(fresh, ignore_errors=True)
            run("index", news, "--index", fresh, "--source", source)
            queries = list(QUERIES)
            for change in changes:
                named = re.findall(r"(\S+\.(?:txt|md))", change)
                if named and (news / named[-1]).exists():
                    blocks = [b for b in folder.text(news / named[-1]).split("\n\n")
                              if len(b.split()) > 10]
                    if blocks:
                        words = rng.choice(blocks).split()
                        k = rng.randrange(max(1, len(words) - 5))
                        queries.append(" ".join(words[k:k + 5]))
            problems += [f"day {day}: {p}" for p in compare(index_dir, fresh, queries,
                                                            not args.paths, tally)]
            ratios.append((size(index_dir) / size(fresh), len(outside_commit(index_dir))))
            # a REPL and a library Searcher left open since the first day
            query = queries[-1]
            repl = repl or Repl(index_dir)
            expected = run("search", "--index", index_dir, "-n", "10", "--format", "plain",
                           "--", query)[1]
            if expected.strip() not in repl.ask(query):
                problems.append(f"day {day}: the REPL left open answers {query!r} otherwise")
            if searcher is None or not searcher.is_current():
                searcher = searchkit.open_index(index_dir)
            with searchkit.open_index(index_dir) as now:
                if searcher.search(query, limit=50) != now.search(query, limit=50):
                    problems.append(f"day {day}: the Searcher left open answers otherwise")
    finally:
        for left_open in (repl, searcher):
            if left_open is not None:
                left_open.close()
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    print(f"\n{args.days} days, seed {args.seed}: {sum(tally.values())} answers compared with "
          f"a fresh build's: {tally['same']} the same, {tally['scores']} the same results with "
          f"other scores, {tally['problems']} different")
    if ratios:
        sizes = sorted(r for r, _ in ratios)
        print(f"index folder / fresh build's: median {sizes[len(sizes) // 2]:.2f}, most "
              f"{sizes[-1]:.2f}; files beside the commit: most {max(n for _, n in ratios)}")
    print(f"Ctrl-C: {len(interrupts)} runs stopped, statuses {sorted(set(interrupts))}")
    print(f"{len(problems)} problems")
    for problem in problems:
        print(" ", problem)


if __name__ == "__main__":
    main()
