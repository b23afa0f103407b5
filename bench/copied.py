"""Text as users copy it: is the paragraph it came from the first result?

    python bench/copied.py [--corpus small|large|bbc] [--count N] [--seed S] [--plain] [--show]

A user who wants to know who said something, where and when, copies it from a web page, a PDF,
an e-mail or a chat and pastes it. From N paragraphs of 15 words or more drawn at random (seed
S) of the corpus (built as bench/speed.py builds it; read in place from ../shared/data), this
takes a sentence or two of each and pastes it as copying changes it, one variant at a time:
curly or straightened quotes, en/em dashes, a "smart" ellipsis, line breaks with a word
hyphenated at a line end (a PDF), non-breaking or doubled spaces, a "Source:"/"By" line or an
e-mail's headers above it, a web address beside it, cut mid-word, one word misspelt or changed,
lower case, capitals, a quotation without its "he said", numbers written otherwise (1,000 and
1000, 5% and 5 per cent), "> " reply marks, wrapped in double quotes; and whole paragraphs, and
100-300 words of consecutive paragraphs (as pasted and as a PDF copy).

searchkit: one open Searcher, ``search(q, limit=10)`` (``syntax=False`` with --plain). For each
variant: the source paragraph's group first, in the top 10, missed (refused among them), with
a note, and the slowest search. A variant that does not apply to a sentence (no dash to change)
is not counted for it (n).
"""

import argparse
import json
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speed  # noqa: E402  (the corpus and the build of bench/speed.py)

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
import searchkit  # noqa: E402
from searchkit.retrieval.snippets import sentence_spans  # noqa: E402

LONG_URL = ("https://www.bbc.co.uk/news/business-4271536?utm_source=twitter&utm_medium=social"
            "&utm_campaign=share_button&at_ptr_name=twitter&at_link_id=A1B2C3D4")
SWAPS = {"said": "stated", "told": "informed", "big": "large", "rise": "increase",
         "rose": "climbed", "fell": "dropped", "firm": "company", "company": "firm",
         "buy": "purchase", "start": "begin", "began": "started", "but": "however",
         "also": "too", "help": "assist", "show": "demonstrate", "new": "fresh",
         "people": "persons", "government": "administration", "expected": "anticipated",
         "about": "around", "because": "since", "added": "continued", "shares": "stocks"}
QUOTED = re.compile(r'["\u201c]([^"\u201d]{25,})["\u201d]')


def curly(s, rng):
    out = re.sub(r'"([^"]*)"', "\u201c\\1\u201d", s)
    out = re.sub(r"(?<=\w)'(?=\w)", "\u2019", out)
    out = re.sub(r"'([^']*)'", "\u2018\\1\u2019", out).replace('"', "\u201d")
    return out if out != s else None


def straight(s, rng):
    out = s.translate(str.maketrans("\u201c\u201d\u2018\u2019", "\"\"''"))
    return out if out != s else None


def dashes(s, rng):
    if " - " in s:
        return s.replace(" - ", rng.choice([" \u2013 ", "\u2014", " \u2014 "]))
    if re.search(r"\w-\w", s):  # a compound: some editors make its hyphen an en dash
        return re.sub(r"(?<=\w)-(?=\w)", "\u2013", s, count=1)
    return None


def ellipsis(s, rng):
    if "..." in s:
        return s.replace("...", "\u2026")
    words = s.split()
    if len(words) < 10:
        return None
    return "\u201c" + " ".join(words[:rng.randint(len(words) // 2, len(words) - 2)]) + \
        "\u2026\u201d"


def pdf(s, rng):
    """Lines of 45-70 characters, the first long word met at a line end hyphenated."""
    lines, line, width, hyphenated = [], "", rng.randint(45, 70), False
    for w in s.split():
        if len(line) + len(w) + 1 <= width or not line:
            line = (line + " " + w).strip()
        elif not hyphenated and len(w) >= 8 and re.fullmatch(r"[A-Za-z]+[.,]?", w):
            cut = rng.randint(3, len(w.rstrip(".,")) - 3)
            lines.append(line + " " + w[:cut] + "-")
            line, hyphenated = w[cut:], True
        else:
            lines.append(line)
            line = w
    lines.append(line)
    return "\n".join(lines) if len(lines) > 1 else None


def nbsp(s, rng):
    spaces = [m.start() for m in re.finditer(" ", s)]
    chars = list(s)
    for i in rng.sample(spaces, max(1, len(spaces) // 3)) if spaces else ():
        chars[i] = rng.choice(["\u00a0", "\u202f", "\u2009"])
    return "".join(chars) if spaces else None


def source_line(s, rng, title):
    return rng.choice(["Source: BBC News\n", "By Jane Smith, Business reporter\n",
                       "By JANE SMITH | 12 March 2005\n", f"Source: {title}\n",
                       f"From: news@example.com\nSubject: {title}\n\n"]) + s


def url(s, rng):
    address = rng.choice(["https://www.bbc.co.uk/news/business-4271536",
                          "http://news.bbc.co.uk/1/hi/uk_politics/4271536.stm",
                          "https://www.reuters.com/article/us-cocoa-idUSN1234?utm_source=x"])
    return s + " " + address if rng.random() < 0.5 else address + "\n" + s


def truncated(s, rng):
    words = [m for m in re.finditer(r"[A-Za-z]{5,}", s) if m.start() > len(s) // 2]
    if not words:
        return None
    w = rng.choice(words)
    return s[:w.start() + rng.randint(2, len(w.group()) - 2)]


def misspelled(s, rng):
    words = list(re.finditer(r"\b[a-z]{6,}\b", s))
    if not words:
        return None
    w = rng.choice(words)
    t, i = w.group(), rng.randint(1, len(w.group()) - 3)
    t = rng.choice([t[:i] + t[i + 1] + t[i] + t[i + 2:], t[:i] + t[i + 1:], t[:i] + t[i] + t[i:]])
    return s[:w.start()] + t + s[w.end():]


def changed(s, rng):
    words = [m for m in re.finditer(r"\b[a-z]+\b", s) if m.group() in SWAPS]
    if words:
        w = rng.choice(words)
        return s[:w.start()] + SWAPS[w.group()] + s[w.end():]
    words = list(re.finditer(r"\b[a-z]{5,}\b", s))
    if not words:
        return None
    w = rng.choice(words)
    return s[:w.start()] + "something" + s[w.end():]


def speaker_removed(s, rng, paragraph):
    """The paragraph's quoted words alone, in quotes or not; else the sentence without "he
    said"."""
    found = QUOTED.findall(paragraph)
    if found:
        quote = " ".join(x.strip().rstrip(",") for x in found)
        return rng.choice(['"%s"', "\u201c%s\u201d", "%s"]) % quote
    m = re.match(r"(.{25,}?),? (?:he|she|they|it) (?:said|added|told \w+)\b(.*)", s)
    return m.group(1).rstrip(",") + m.group(2) if m else None


def numbers(s, rng):
    rewrites = [(r"(\d),(\d{3})\b", r"\1\2"), (r"\b(\d{1,3})(\d{3})\b(?![.,]\d)", r"\1,\2"),
                (r"(\d)%", r"\1 per cent"), (r"(\d) per ?cent\b", r"\1%"), (r"(\d) pct\b", r"\1%"),
                (r"(\d)m\b", r"\1 million"), (r"(\d)bn\b", r"\1 billion"),
                (r"(\d) (mln|million)\b", r"\1m"), (r"(\d) (bln|billion)\b", r"\1bn"),
                (r"\bone\b", "1"), (r"\btwo\b", "2"), (r"\bthree\b", "3")]
    rng.shuffle(rewrites)
    for pattern, replacement in rewrites:
        out, n = re.subn(pattern, replacement, s, count=1)
        if n:
            return out
    return None


def reply(s, rng):
    return "> " + (pdf(s, rng) or s).replace("\n", "\n> ")


# name -> the query made of (sentence, rng, title, paragraph, block), or None
VARIANTS = {
    "as cut": lambda s, r, *_: s,
    "curly quotes/apostrophes": lambda s, r, *_: curly(s, r),
    "straightened quotes": lambda s, r, *_: straight(s, r),
    "en/em dash": lambda s, r, *_: dashes(s, r),
    "smart ellipsis": lambda s, r, *_: ellipsis(s, r),
    "PDF line breaks+hyphen": lambda s, r, *_: pdf(s, r),
    "non-breaking spaces": lambda s, r, *_: nbsp(s, r),
    "doubled spaces": lambda s, r, *_: re.sub(" ", lambda m: "  " if r.random() < 0.4 else " ",
                                              s) + "  ",
    "Source:/By line": lambda s, r, title, *_: source_line(s, r, title),
    "URL beside": lambda s, r, *_: url(s, r),
    "long tracking URL beside": lambda s, r, *_: s + "\n" + LONG_URL,
    "in double quotes": lambda s, r, *_: '"' + s + '"',
    "in double quotes, a word changed": lambda s, r, *_: '"' + (changed(s, r) or s) + '"',
    "in double quotes, cut mid-word": lambda s, r, *_: '"' + (truncated(s, r) or s) + '"',
    "truncated mid-word": lambda s, r, *_: truncated(s, r),
    "one word misspelled": lambda s, r, *_: misspelled(s, r),
    "one word changed": lambda s, r, *_: changed(s, r),
    "all lower case": lambda s, r, *_: s.lower(),
    "ALL CAPS": lambda s, r, *_: s.upper(),
    "quote, speaker removed": lambda s, r, title, paragraph, _: speaker_removed(s, r,
                                                                                paragraph),
    "numbers rewritten": lambda s, r, *_: numbers(s, r),
    "e-mail quoted (> )": lambda s, r, *_: reply(s, r),
    "whole paragraph (60+ words)": lambda s, r, title, paragraph, _:
        paragraph if len(paragraph.split()) >= 60 else None,
    "100-300 words, several paragraphs": lambda s, r, *rest: rest[2] or None,
    "100-300 words, PDF copy": lambda s, r, *rest: pdf(rest[2], r) if rest[2] else None,
}


def blocks(rows: list) -> dict:
    """Paragraph id -> (it and the next paragraphs of its article, 100-300 words; their
    groups)."""
    by_article = {}
    for pid, _title, text, group in rows:
        article, _, number = pid.rpartition("#")
        by_article.setdefault(article, []).append((int(number), text, group))
    found = {}
    for article, paragraphs in by_article.items():
        paragraphs.sort()
        for i, (number, _text, _group) in enumerate(paragraphs):
            taken, groups, words = [], set(), 0
            for _, text, group in paragraphs[i:]:
                if words + len(text.split()) > 300:
                    break
                taken.append(text)
                groups.add(group)
                words += len(text.split())
                if words >= 100 and len(taken) >= 2:
                    break
            if words >= 100:
                found[f"{article}#{number}"] = ("\n\n".join(taken), groups)
    return found


def pick(rows: list, count: int, seed: int) -> list:
    """(id, title, text, group, a sentence or two of 8 words or more) of ``count`` paragraphs
    of 15 words or more."""
    rng = random.Random(seed)
    chosen = rng.sample([r for r in rows if len(r[2].split()) >= 15], count)
    picked = []
    for pid, title, text, group in chosen:
        sentences = [text[a:b] for a, b in sentence_spans(text)]
        i, n = rng.randrange(len(sentences)), rng.choice([1, 2])
        while len(" ".join(sentences[i:i + n]).split()) < 8 and (i > 0 or i + n < len(sentences)):
            if i + n < len(sentences):
                n += 1
            else:
                i -= 1
        picked.append((pid, title, text, group, " ".join(sentences[i:i + n])))
    return picked


def run(index: Path, rows: list, args) -> list:
    picked, block_of = pick(rows, args.count, args.seed), blocks(rows)
    found = []
    with searchkit.open_index(index) as searcher:
        searcher.search("warm up")
        for name, make in VARIANTS.items():
            rng = random.Random(f"{args.seed}-{name}")
            for pid, title, text, group, sentence in picked:
                block, groups = block_of.get(pid, ("", {group}))
                query = make(sentence, rng, title, text, block)
                if query is None:
                    continue
                wanted = groups if name.startswith("100-300") else {group}
                record = {"variant": name, "pid": pid, "q": query, "rank": None, "notes": []}
                started = time.perf_counter()
                try:
                    results = searcher.search(query, limit=10, syntax=not args.plain)
                    record["rank"] = next((n for n, g in enumerate(results.groups, 1)
                                           if g.leader.group in wanted), None)
                    record["notes"] = list(results.notes) + [
                        f"also searched for {', '.join(v)}" for v in results.variants.values()]
                except searchkit.QueryError as error:
                    record["refused"] = str(error)
                record["seconds"] = time.perf_counter() - started
                found.append(record)
    return found


def report(found: list, show: bool) -> None:
    by_variant = {}
    for record in found:
        by_variant.setdefault(record["variant"], []).append(record)
    print("| variant | n | first | in top 10 | missed | refused | with a note | slowest |")
    print("|---|---|---|---|---|---|---|---|")
    for name, records in by_variant.items():
        n, top = len(records), sum(r["rank"] is not None for r in records)
        print(f"| {name} | {n} | {sum(r['rank'] == 1 for r in records)} | {top} | {n - top} | "
              f"{sum('refused' in r for r in records)} | {sum(bool(r['notes']) for r in records)}"
              f" | {max(r['seconds'] for r in records) * 1000:.0f} ms |")
    for record in found if show else ():
        if record["rank"] != 1:
            print(f"{record['variant']}: rank {record['rank']} of {record['pid']}: "
                  f"{record['q']!r} {record.get('refused', '')}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=("small", "large", "bbc"), default="bbc")
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--plain", action="store_true", help="search with syntax=False")
    parser.add_argument("--show", action="store_true", help="print what was not found first")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="searchkit-copied-"))
    try:
        paths = [str(p) for p in speed.corpus_paths(args.corpus, tmp)]
        index, rows_file = tmp / "index", tmp / "paragraphs.json"
        speed.run_json(["-c", speed.SEARCHKIT_BUILD, json.dumps(
            {"paths": paths, "index": str(index), "processes": 2})])
        speed.subprocess.run([speed.PY, "-c", speed.DUMP, str(index), str(rows_file)],
                             check=True, capture_output=True)
        rows = json.loads(rows_file.read_text())
        print(f"{args.count} paragraphs of {len(rows)} ({args.corpus}, seed {args.seed})\n")
        report(run(index, rows, args), args.show)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
