"""The grouping's candidate pairs: its anchors against MinHash with LSH banding, on BBC and
Reuters-21578.

    python bench/banding.py [--corpus small|large|bbc] [--permutations 128]
                            [--bands 32x4,42x3,64x2]

A cluster build needs candidate pairs of near-identical paragraphs without comparing all
pairs. searchkit's grouping proposes them by *anchors*: two paragraphs are candidates when they
share a word 4-gram held by at most dedup.COMMON_SHINGLE paragraphs (one exact hash per band),
and the exact test (3-gram containment at the threshold, templates kept apart) decides. The
usual alternative is MinHash over the 3-grams with LSH banding (b bands of r rows). This
measures, on the paragraphs of the corpus (read by a searchkit build):
- the candidate pairs each method proposes, and the seconds it takes (numpy, one process);
- recall: of the pairs the grouping joins (its verified edges), how many each proposes;
- the alike pairs (passing the exact test) MinHash proposes that anchors do not (they would
  change the groups), and the other way round.
Paragraphs with fewer than dedup.MIN_SHINGLES 3-grams group only as exact copies and are left
out of both.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from speed import DATA, corpus_paths  # noqa: E402

import searchkit  # noqa: E402
from searchkit.index import dedup, dupindex, store  # noqa: E402


def paragraphs(paths, folder: Path):
    """(id, text) of every paragraph the corpus gives, from a searchkit build."""
    searchkit.build_index(paths, folder, find_duplicates=False)
    with store.open_index(folder).searcher() as searcher:
        return sorted((f["id"], f["text"]) for f in searcher.all_stored_fields())


def pair_keys(pairs: np.ndarray, count: int) -> np.ndarray:
    pairs = np.sort(pairs, axis=1)
    return np.unique(pairs[:, 0] * count + pairs[:, 1])


def anchor_candidates(shingled, count: int) -> np.ndarray:
    owner = np.repeat(np.arange(count), np.diff(shingled.anchor_offsets))
    order = np.lexsort((owner, shingled.anchors))
    anchors, holders = shingled.anchors[order], owner[order]
    starts = np.flatnonzero(np.r_[True, anchors[1:] != anchors[:-1]])
    sizes = np.diff(np.r_[starts, len(anchors)])
    few = sizes <= dedup.COMMON_SHINGLE
    return pair_keys(dupindex._pairs_within(holders, starts[few], sizes[few]), count)


def minhash(shingled, usable: np.ndarray, permutations: int, seed: int = 7) -> np.ndarray:
    """(paragraphs, permutations) minimum hashes of each usable paragraph's 3-grams, by
    multiply-shift hashing (uint64 arithmetic, wrapping)."""
    rng = np.random.default_rng(seed)
    multipliers = rng.integers(1, 2**63, permutations, dtype=np.uint64) * np.uint64(2) + 1
    adders = rng.integers(0, 2**63, permutations, dtype=np.uint64)
    sizes = np.diff(shingled.shingle_offsets)
    values = shingled.shingles[np.repeat(usable, sizes)]  # the usable paragraphs' 3-grams
    starts = np.r_[0, np.cumsum(sizes[usable])[:-1]]
    rows = np.flatnonzero(usable)
    signatures = np.zeros((len(usable), permutations), np.uint64)
    with np.errstate(over="ignore"):
        for k in range(permutations):
            signatures[rows, k] = np.minimum.reduceat(values * multipliers[k] + adders[k],
                                                      starts)
    return signatures


def lsh_candidates(signatures: np.ndarray, usable: np.ndarray, bands: int, rows: int,
                   limit: int) -> np.ndarray:
    members = np.flatnonzero(usable)
    found = []
    total = 0
    with np.errstate(over="ignore"):
        for band in range(bands):
            block = signatures[members, band * rows:(band + 1) * rows]
            key = np.zeros(len(members), np.uint64)
            for column in range(rows):
                key = key * np.uint64(0x9E3779B97F4A7C15) + block[:, column]
            order = np.argsort(key, kind="stable")
            ordered = key[order]
            starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
            sizes = np.diff(np.r_[starts, len(ordered)])
            total += int((sizes * (sizes - 1) // 2).sum())
            if total > limit:
                return None
            pairs = dupindex._pairs_within(members[order], starts, sizes)
            found.append(pair_keys(pairs, len(usable)) if len(pairs) else pairs[:, 0])
    return np.unique(np.concatenate(found)) if found else np.zeros(0, np.int64)


def alike(keys: np.ndarray, count: int, texts, threshold: float) -> int:
    """How many of the pairs pass the grouping's exact test."""
    sets = {}

    def shingles_of(i):
        if i not in sets:
            sets[i] = dedup.shingles(texts[i])
        return sets[i]

    passed = 0
    for key in keys.tolist():
        a, b = divmod(key, count)
        sa, sb = shingles_of(a), shingles_of(b)
        if (min(len(sa), len(sb)) >= dedup.MIN_SHINGLES
                and dedup.similarity(sa, sb) >= threshold
                and not dedup.template_pair(texts[a], texts[b])):
            passed += 1
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", choices=("small", "large", "bbc"), default="large")
    parser.add_argument("--permutations", type=int, default=128)
    parser.add_argument("--bands", default="32x4,42x3,64x2",
                        help="comma-separated BxR settings (B*R at most --permutations)")
    parser.add_argument("--limit", type=int, default=30_000_000,
                        help="give up on a setting proposing more pairs than this")
    args = parser.parse_args()
    if not (DATA / "bbc").is_dir():
        sys.exit(f"needs ../shared/data (BBC and Reuters-21578) beside the repository: {DATA}")
    threshold = dedup.DEFAULT_THRESHOLD
    with tempfile.TemporaryDirectory() as tmp:
        found = paragraphs(corpus_paths(args.corpus, Path(tmp)), Path(tmp) / "index")
    texts = [t for _, t in found]
    count = len(texts)
    started = time.perf_counter()
    grouped = dupindex.DupIndex.build(found, threshold)
    grouping_seconds = time.perf_counter() - started
    shingled = dupindex._Shingled(texts)
    usable = np.diff(shingled.shingle_offsets) >= dedup.MIN_SHINGLES
    edges = pair_keys(grouped.edges, count)
    edges = edges[usable[edges // count] & usable[edges % count]]
    started = time.perf_counter()
    anchors = anchor_candidates(shingled, count)
    anchors = anchors[usable[anchors // count] & usable[anchors % count]]
    anchor_seconds = time.perf_counter() - started
    print(f"corpus {args.corpus}: {count:,} paragraphs, {int(usable.sum()):,} with at least "
          f"{dedup.MIN_SHINGLES} 3-grams; the grouping's verified pairs among them: "
          f"{len(edges):,} (the whole grouping took {grouping_seconds:.1f} s)\n")
    print("| candidates by | seconds | candidate pairs | recall of the grouping's pairs | "
          "alike pairs anchors do not propose | alike pairs it does not propose |")
    print("|---|---|---|---|---|---|")
    print(f"| anchors (rare word 4-grams) | {anchor_seconds:.1f} | {len(anchors):,} | "
          f"{np.isin(edges, anchors).mean():.4f} | - | - |")
    started = time.perf_counter()
    signatures = minhash(shingled, usable, args.permutations)
    signing = time.perf_counter() - started
    for setting in args.bands.split(","):
        bands, rows = map(int, setting.split("x"))
        started = time.perf_counter()
        proposed = lsh_candidates(signatures, usable, bands, rows, args.limit)
        seconds = signing + time.perf_counter() - started
        label = f"MinHash {args.permutations}, LSH {bands} bands x {rows} rows"
        if proposed is None:
            print(f"| {label} | - | over {args.limit:,} | - | - | - |")
            continue
        extra = alike(np.setdiff1d(proposed, anchors), count, texts, threshold)
        missed = alike(np.setdiff1d(anchors, proposed), count, texts, threshold)
        print(f"| {label} | {seconds:.1f} | {len(proposed):,} | "
              f"{np.isin(edges, proposed).mean():.4f} | {extra:,} | {missed:,} |")


if __name__ == "__main__":
    main()
