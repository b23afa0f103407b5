"""The kept near-duplicate index groups exactly as ``dedup.find_groups`` does, from scratch and
after any sequence of removals and additions; an indexing run that adds a file regroups what
a rebuild would, asking only for the texts it must."""

import io
import mmap
import random
import shutil
import zipfile
from collections import Counter

import numpy as np
import pytest
import reuters
import samples
from hypothesis import example, given
from hypothesis import strategies as st
from conftest import DATA, S000, S001, S002, S003, S004, SEEDS
from test_dedup import chain_texts
from test_dedup_templates import template_files
from whoosh import index as whoosh_index

import searchkit
from searchkit.index import (anchorindex, anchorspill, dedup, dupindex, durable, slotids, store,
                             vocabulary, workers)
from searchkit.index.paragraphs import ReadParagraphs, split_off
from searchkit.index.slotids import SlotIds
from searchkit.ingest.corpus import ReadOptions, find_files, read_bytes, read_file


def paragraphs_of(paths, prefix=""):
    """(id, text) of the paragraphs of files; ``prefix`` in front of the ids keeps those of
    two folders apart (BBC's business/001 and entertainment/001 are both 001)."""
    files, _ = find_files(paths)
    found = []
    for path, key, _real in files:
        result = read_file(path, key, read_bytes(path, ReadOptions()), None, ReadOptions())
        found += [(prefix + p.id, p.text) for a in result.articles for p in a.paragraphs]
    return found


def write_templates(folder):
    """tests/test_dedup_templates.py's files (lists, figures replaced, a reprinted story with
    its stock sentence) in ``folder``; return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in template_files().items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def corpus(folder, business=True):
    """The seeds, the invented samples and wire stories (figures over one template), the
    template files, and slices of BBC (entertainment/368 is a list of critics' picks; with
    ``business``, 3,000 paragraphs of its business news) and Reuters-21578 (earnings tables)
    where they are."""
    found = paragraphs_of([SEEDS, samples.write_folder(folder / "samples"),
                           write_templates(folder / "templates")])
    samples.write_wire(folder / "wire", stories=150)
    found += paragraphs_of([folder / "wire"], "wire/")
    if (DATA / "bbc").is_dir():
        if business:
            found += paragraphs_of([DATA / "bbc" / "business"])[:3000]
        found += paragraphs_of(sorted((DATA / "bbc" / "entertainment").glob("3[5-7]*.txt")),
                               "entertainment/")
    if (DATA / "reuters21578").is_dir():
        reuters.write_slice(folder / "reuters", per_file=60)
        found += paragraphs_of([folder / "reuters"], "reuters/")
    assert len(dict(found)) == len(found)  # ids told apart
    return found


@pytest.fixture(scope="module")
def paragraphs(tmp_path_factory):
    return corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def fewer_paragraphs(tmp_path_factory):
    """The corpus without BBC's business news: for index layouts of a few entries a piece,
    whose every step costs Python per piece."""
    return corpus(tmp_path_factory.mktemp("fewer"), business=False)


def test_groups_from_scratch_are_find_groups(paragraphs):
    built = dupindex.DupIndex.build(paragraphs, dedup.DEFAULT_THRESHOLD)
    expected = dedup.find_groups(paragraphs)
    assert built.groups() == expected
    assert sum(1 for pid, key in expected.items() if pid != key) > 10  # real groups


def test_signatures_are_dedups_of_each_text(paragraphs):
    odd = [("odd#1", "Ça coûte 5 € — “quoted” O’Brien’s ﬁle"), ("odd#2", "")]
    built = dupindex.DupIndex.build(paragraphs + odd, dedup.DEFAULT_THRESHOLD)
    assert [dupindex.signature(h) for h in built.exact_of_last(len(paragraphs) + 2)] == [
        dedup.signature(text) for _, text in paragraphs + odd]
    assert not len(built.exact_of_last(0))
    texts = dict(paragraphs)
    built.update(["odd#2"], [("odd#1", "Ça coûte"), ("odd#3", "cinq €")],
                 lambda wanted: {pid: texts[pid] for pid in wanted})
    assert [dupindex.signature(h) for h in built.exact_of_last(2)] == [
        dedup.signature("Ça coûte"), dedup.signature("cinq €")]


_WORDY = st.text(st.sampled_from("aZ_9 '`.\x00\t-") | st.characters(), max_size=60)


@given(st.lists(_WORDY | st.builds("".join, st.lists(st.sampled_from(["ab", "Xy", "12"]),
                                                     min_size=3, max_size=12)), max_size=8))
@example(["", "a b", "Caf\u00e9 O'Brien\u2019s \ufb01le", "abcdefgh abcdefghi abcdefghijklmnop",
          "abcdefghijklmnopq abcdefghijklmnopq ABCDEFGHIJKLMNOPQ", "\x00x\x00 y_z 7",
          "O'Brien's rock`n`roll"])
def test_words_are_hashed_by_arrays_as_dedup_reads_them(texts):
    """Each text's words are dedup.words' (the ASCII ones read by a table); equal words, and
    only those, share a hash wherever they stand, whatever their length (a hash from the
    bytes up to 16, blake2b beyond)."""
    exact, counts, hashes = dupindex._hashed_words(texts)
    words = [dedup.words(text) for text in texts]
    assert counts.tolist() == [len(found) for found in words]
    assert [dupindex.signature(h) for h in exact] == [dedup.signature(t) for t in texts]
    flat = [word for found in words for word in found]
    alone = [int(dupindex._hashed_words([word])[2][0]) for word in flat]
    assert hashes.tolist() == alone
    assert len(set(alone)) == len(set(flat))


@pytest.mark.parametrize("early", [False, True])
def test_texts_shingled_in_two_processes_give_the_same_index(paragraphs, monkeypatch, early):
    """A helper forked for the work, or one forked before (a build's, as a cluster of two: its
    tasks sent pickled, one at a time)."""
    monkeypatch.setattr(dupindex, "_CHARS_AT_A_TIME", 50_000)  # several chunks on each side
    monkeypatch.setattr(dupindex, "_GRAMS_AT_A_TIME", 5_000)  # and candidate pairs' chunks
    serial = dupindex.DupIndex.build(paragraphs, dedup.DEFAULT_THRESHOLD)
    with workers.Helper() as helper:
        helper.start()
        shared = dupindex.DupIndex.build(paragraphs, dedup.DEFAULT_THRESHOLD, parallel=True,
                                         cluster=helper if early else None)
        assert helper.started  # still there for more work
    assert shared.to_bytes() == serial.to_bytes()


def test_paragraphs_as_a_build_holds_them_give_the_same_index(tmp_path):
    """A build's paragraphs, as ``paragraphs.ReadParagraphs`` holds them (each id made from
    its article's when asked for, the articles known by number), group as their (id, text)
    pairs do; and the index, updated, as the pairs' updated."""
    read = ReadParagraphs(str(tmp_path))
    pairs = []
    files, _ = find_files([SEEDS, samples.write_folder(tmp_path / "samples"),
                           write_templates(tmp_path / "templates")])
    for path, key, _real in files:
        articles = read_file(path, key, read_bytes(path, ReadOptions()), None,
                             ReadOptions()).articles
        read.extend(split_off(articles))
        pairs += [(p.id, p.text) for a in articles for p in a.paragraphs]
    held = dupindex.DupIndex.build(read.pairs(), dedup.DEFAULT_THRESHOLD, scratch=str(tmp_path))
    listed = dupindex.DupIndex.build(pairs, dedup.DEFAULT_THRESHOLD)
    assert len({g for g in listed.groups().values()}) < len(pairs)  # some groups shared
    assert held.groups() == listed.groups() == dedup.find_groups(pairs, dedup.DEFAULT_THRESHOLD)
    assert held.to_bytes() == listed.to_bytes()
    changed, text = [(pairs[0][0], pairs[1][1])], dict(pairs)

    def texts(ids):
        return {pid: text[pid] for pid in ids}

    assert held.update([pairs[2][0]], changed, texts) == listed.update([pairs[2][0]], changed,
                                                                       texts)
    assert held.to_bytes() == listed.to_bytes()
    read.close()


def test_texts_shingled_where_they_were_read_give_the_same_index(paragraphs, monkeypatch,
                                                                 tmp_path):
    """A build's reading helpers hash the paragraphs each read (shingled_parts of its half,
    in several chunks, each worked out in slices): the grouping takes their parts, joined in
    order, as its own."""
    monkeypatch.setattr(dupindex, "_CHARS_AT_A_TIME", 50_000)
    monkeypatch.setattr(dupindex, "_CHARS_A_SLICE", 12_000)
    serial = dupindex.DupIndex.build(paragraphs, dedup.DEFAULT_THRESHOLD)
    texts = [t for _, t in paragraphs]
    half = len(texts) // 3
    parts = dupindex.shingled_parts(texts[:half]) + dupindex.shingled_parts(texts[half:])
    assert len(parts) > 2
    given = dupindex.DupIndex.build(paragraphs, dedup.DEFAULT_THRESHOLD, parts=parts)
    assert given.to_bytes() == serial.to_bytes()
    assert parts == []  # let go of once joined
    parts = dupindex.shingled_parts(texts[:half]) + dupindex.shingled_parts(texts[half:])
    kept = dupindex.DupIndex.build(paragraphs, dedup.DEFAULT_THRESHOLD, parts=parts,
                                   scratch=str(tmp_path))
    assert kept.to_bytes() == serial.to_bytes()
    assert parts == []  # on disk, and let go of
    kept.close()
    with pytest.raises(ValueError):
        dupindex.DupIndex.build(paragraphs, dedup.DEFAULT_THRESHOLD,
                                parts=dupindex.shingled_parts(texts[:half]))


def test_anchors_kept_on_disk_give_the_same_index(paragraphs, tmp_path, monkeypatch):
    """With a scratch folder, a grouping from scratch keeps its anchors on disk, in buckets
    by their top bits sorted one at a time, in unnamed files: the same index as one held in
    memory, written and updated."""
    monkeypatch.setattr(dupindex, "_CHARS_AT_A_TIME", 50_000)  # several parts to add
    monkeypatch.setattr(anchorspill, "BUCKET_ANCHORS", 2_000)  # and many buckets
    buckets = []
    made = anchorspill.AnchorBuckets.__init__

    def spied(self, *args):
        made(self, *args)
        buckets.append(self)

    monkeypatch.setattr(anchorspill.AnchorBuckets, "__init__", spied)
    held = dupindex.DupIndex.build(paragraphs, dedup.DEFAULT_THRESHOLD)
    assert buckets == []
    spilled = dupindex.DupIndex.build(paragraphs, dedup.DEFAULT_THRESHOLD,
                                      scratch=str(tmp_path))
    assert buckets[0].bits >= 4 and len(spilled.anchors) == 0
    assert spilled.groups() == held.groups()
    assert spilled.to_bytes() == held.to_bytes()
    assert list(tmp_path.iterdir()) == []
    gone = [pid for pid, _ in paragraphs[::7]]
    for index in (held, spilled):
        index.update(gone, paragraphs[3:9], lambda ids: dict(paragraphs))
    assert spilled.on_disk is None and spilled.to_bytes() == held.to_bytes()


_ANCHOR_VALUES = st.sampled_from([0, 1, 2**62 + 5, 2**63 - 1, 2**63, 2**64 - 1])


@given(slices=st.lists(st.lists(_ANCHOR_VALUES | st.integers(0, 2**64 - 1), max_size=30),
                       max_size=6),
       bits=st.integers(0, 3))
def test_anchor_buckets_give_anchors_sorted_ties_in_slot_order(tmp_path_factory, slices, bits):
    buckets = anchorspill.AnchorBuckets(str(tmp_path_factory.mktemp("scratch")),
                                        anchorspill.BUCKET_ANCHORS << bits)
    everything, first = [], 0
    for values in slices:
        anchors = np.array(values, np.uint64)
        holders = first + np.arange(len(values)) // 2  # (two anchors a paragraph)
        order = np.lexsort((holders, anchors))
        buckets.add(anchors[order], holders[order])
        everything += zip(values, holders.tolist())
        first += len(values)
    result = anchorspill.SortedAnchors(str(tmp_path_factory.mktemp("sorted")))
    found = list(buckets.sorted(into=result))
    assert len(found) == 1 << bits
    anchors = np.concatenate([a for a, _ in found]).tolist()
    holders = np.concatenate([h for _, h in found]).tolist()
    assert list(zip(anchors, holders)) == sorted(everything)
    assert result.load()[0].tolist() == anchors
    assert result.load()[1].tolist() == holders
    result.close()


def test_parts_handed_over_in_any_order_are_joined_in_order(paragraphs, tmp_path,
                                                            monkeypatch):
    """A build's reading helpers send each slice's parts as they finish it: kept on disk,
    they are lined up by slice, the same n-grams and anchors as the parts joined in memory."""
    monkeypatch.setattr(dupindex, "_CHARS_AT_A_TIME", 20_000)  # several parts a slice
    monkeypatch.setattr(anchorspill, "BUCKET_ANCHORS", 5_000)
    texts = [t for _, t in paragraphs]
    cuts = [0, len(texts) // 5, len(texts) // 2, len(texts) - 3, len(texts)]
    slices = [dupindex.shingled_parts(texts[a:b]) for a, b in zip(cuts, cuts[1:])]
    spilled = anchorspill.SpilledParts(str(tmp_path), len(slices), 40_000)
    for k in (2, 0, 3, 1):
        spilled.add(k, slices[k])
    held = dupindex._Shingled(texts, parts=[part for parts in slices for part in parts])
    kept = dupindex._Shingled(texts, parts=spilled)
    for name in ("exact", "shingle_offsets", "short"):
        assert np.array_equal(getattr(kept, name), getattr(held, name))
    assert np.array_equal(kept.shingles[:], held.shingles)  # (read back from disk)
    # The 3-grams of some rows, neighbours and rows far apart, read as held in memory.
    offsets = held.shingle_offsets
    for rows in ([0], [1, 2, 3], [0, 5, len(texts) - 1], list(range(0, len(texts), 3)),
                 [len(texts) // 2, len(texts) // 2 + 40, len(texts) - 2]):
        rows = np.array(rows)
        grams, own = kept.shingles.of_rows(rows)
        assert own.tolist() == [0, *np.cumsum(offsets[rows + 1] - offsets[rows]).tolist()]
        assert grams.tolist() == [g for r in rows.tolist()
                                  for g in held.shingles[offsets[r]:offsets[r + 1]].tolist()]
    kept.close()
    result = anchorspill.SortedAnchors(str(tmp_path))
    sorted_buckets = list(kept.spilled.sorted(into=result))
    assert np.array_equal(np.concatenate([a for a, _ in sorted_buckets]), held.anchors)
    assert np.array_equal(np.concatenate([h for _, h in sorted_buckets]), held.anchor_owner)
    result.close()
    assert list(tmp_path.iterdir()) == []
    missing = anchorspill.SpilledParts(str(tmp_path), 2, 100)
    missing.add(1, slices[1])
    with pytest.raises(ValueError):
        dupindex._Shingled(texts, parts=missing)


def test_a_build_read_in_helpers_groups_with_the_paragraphs_they_hashed(
        tmp_path, monkeypatch):
    """Read in two helpers, a fresh build's paragraphs are hashed there for the grouping:
    the same groups and near-duplicate index as a build in one process."""
    from searchkit.index import build

    folder = tmp_path / "corpus"
    shutil.copytree(SEEDS, folder)
    write_templates(folder / "templates")
    samples.write_wire(folder / "wire", stories=40)
    monkeypatch.setattr(build, "PARALLEL_READ_FILES", 10**9)  # read in this process
    searchkit.build_index([folder], tmp_path / "one")
    given = []
    grouping = dupindex.DupIndex.build

    def spied(*args, parts=None, **options):
        given.append(isinstance(parts, anchorspill.SpilledParts) and parts.count > 0)
        return grouping(*args, parts=parts, **options)

    monkeypatch.setattr(dupindex.DupIndex, "build", spied)
    monkeypatch.setattr(build, "PARALLEL_READ_FILES", 2)
    monkeypatch.setattr(build, "PARALLEL_SPARE_CORES", None)
    shared_out = []  # pieces read by the helpers forked before the files were found
    share_out = workers.Helpers.share_out
    monkeypatch.setattr(workers.Helpers, "share_out",
                        lambda helpers, tasks, *rest: shared_out.append(len(tasks))
                        or share_out(helpers, tasks, *rest))
    searchkit.build_index([folder], tmp_path / "two")
    assert given == [True] and len(shared_out) == 1 and shared_out[0] > 2
    assert stored_groups(tmp_path / "two") == stored_groups(tmp_path / "one")
    assert len(set(stored_groups(tmp_path / "one").values())) < len(
        stored_groups(tmp_path / "one"))  # real groups
    kept = [store.read_committed(ix, store.latest_generation(ix), "dupindex")
            for ix in (tmp_path / "one", tmp_path / "two")]
    assert kept[0] == kept[1] is not None
    # (the texts, kept on disk in the order their pieces arrived, written in the files' order)
    stored = []
    for ix in (tmp_path / "one", tmp_path / "two"):
        with whoosh_index.open_dir(str(ix)).searcher() as searcher:
            stored.append(sorted(map(sorted, map(dict.items, searcher.all_stored_fields()))))
    assert stored[0] == stored[1]


def test_files_skipped_among_those_read_in_helpers_leave_the_hashes_in_step(
        tmp_path, monkeypatch):
    """A file that cannot be read, among those the helpers read: they hash only the
    paragraphs of the files read, and the grouping lines them up with those paragraphs."""
    from searchkit.index import build

    folder = tmp_path / "corpus"
    shutil.copytree(SEEDS, folder)
    names = sorted(p.name for p in folder.glob("*.txt"))
    for name in (names[1], names[len(names) // 2]):  # one in each helper's half
        (folder / name).write_bytes(b"\x00\x01\x02binary\x00" * 200)  # skipped: not text
    monkeypatch.setattr(build, "PARALLEL_READ_FILES", 10**9)  # read in this process
    searchkit.build_index([folder], tmp_path / "one")
    given = []
    grouping = dupindex.DupIndex.build

    def spied(*args, parts=None, **options):
        given.append(None if parts is None else parts.count)
        return grouping(*args, parts=parts, **options)

    monkeypatch.setattr(dupindex.DupIndex, "build", spied)
    monkeypatch.setattr(build, "PARALLEL_READ_FILES", 2)
    monkeypatch.setattr(build, "PARALLEL_SPARE_CORES", None)
    summary = searchkit.build_index([folder], tmp_path / "two")
    assert len(summary.skipped_files) == 2 and given[0] > 0
    assert stored_groups(tmp_path / "two") == stored_groups(tmp_path / "one")


@pytest.mark.parametrize("common, piece, block", [(dedup.COMMON_SHINGLE, 1 << 18, 512),
                                                  (2, 3, 4)])
def test_updates_give_the_groups_of_a_fresh_grouping(request, monkeypatch, common, piece,
                                                     block):
    """Random removals, additions and replacements; with a stock-phrase limit of 2, anchors
    keep crossing it both ways (pairs proposed again, pairs no longer proposed). The anchors'
    entries are scanned and written ``piece`` at a time and looked up by blocks of ``block``
    (3 and 4: runs of one anchor span pieces and blocks, and blocks pieces: on fewer
    paragraphs)."""
    paragraphs = request.getfixturevalue("paragraphs" if piece > 3 else "fewer_paragraphs")
    monkeypatch.setattr(dedup, "COMMON_SHINGLE", common)
    monkeypatch.setattr(anchorindex, "PIECE", piece)
    monkeypatch.setattr(anchorindex, "BLOCK", block)
    rng = random.Random(common)
    texts = dict(paragraphs)
    ids = sorted(texts)
    held = set(rng.sample(ids, len(ids) // 2))
    index = dupindex.DupIndex.build([(i, texts[i]) for i in sorted(held)], 0.6)
    asked = []

    def texts_of(wanted):
        asked.append(len(wanted))
        return {i: texts[i] for i in wanted}

    for step in range(6):
        removed = set(rng.sample(sorted(held), len(held) // 10))
        added = rng.sample(sorted(set(ids) - held), min(len(ids) // 12, len(set(ids) - held)))
        replaced = rng.sample(sorted(held - removed), 3)  # the same id with another text
        for pid in replaced:
            texts[pid] = texts[pid] + " " + texts[rng.choice(ids)]
        before = index.groups()
        changed = index.update(removed, [(i, texts[i]) for i in added + replaced], texts_of)
        held = (held - removed) | set(added)
        expected = dedup.find_groups([(i, texts[i]) for i in sorted(held)])
        assert index.groups() == expected, step
        assert changed == {i: k for i, k in expected.items()
                           if i in before and i not in added + replaced and before[i] != k}
        assert index.keys_of_last(len(added + replaced)) == [expected[i]
                                                             for i in added + replaced]
        assert sorted(index.group_sizes()) == sorted(Counter(expected.values()).values())
        written = index.to_bytes()
        kept = dupindex.DupIndex.from_bytes(written, 0.6)  # its entries as read
        assert kept.groups() == expected and kept.to_bytes() == written
        index = kept
    # only texts of paragraphs in pairs to verify (and, for short ones, their stories') were
    # asked for, never the whole index's (a third of it, on the small corpus without the data)
    assert asked and max(asked) < len(held) / 2


def test_templates_stay_apart_and_a_reprinted_storys_stock_sentence_joins(tmp_path):
    paragraphs = paragraphs_of([write_templates(tmp_path)])
    groups = dupindex.DupIndex.build(paragraphs, dedup.DEFAULT_THRESHOLD).groups()
    assert groups == dedup.find_groups(paragraphs)
    assert all(groups[pid] == pid for pid in groups if pid.startswith("picks#"))  # a list
    assert groups["beta#1"] == "beta#1"  # figures replaced
    assert groups["reprint#1"] == "court#1" and groups["reprint#2"] == "court#2"
    assert groups["other#2"] == "other#2"  # a stock sentence in another story


def updated_as_find_groups(index, texts, removed, added, dates=None):
    """``index.update`` and ``texts`` changed alike (``dates``: by id, the added ones' too),
    checked against ``find_groups``: the groups, what changed, and both once the index is
    written and read back. Returns the index read back and the groups."""
    before = index.groups()
    changed = index.update(removed, added, lambda wanted: {i: texts[i] for i in wanted},
                           None if dates is None else [dates[pid] for pid, _ in added])
    for pid in removed:
        del texts[pid]
    texts.update(added)
    expected = dedup.find_groups(sorted(texts.items()), dates=dates)
    assert index.groups() == expected
    assert changed == {i: k for i, k in expected.items() if i in before
                       and i not in dict(added) and before[i] != k}
    loaded = dupindex.DupIndex.from_bytes(index.to_bytes(), dedup.DEFAULT_THRESHOLD)
    assert loaded.groups() == expected
    return loaded, expected


def test_short_paragraphs_regroup_when_their_story_does(tmp_path):
    """Whether two articles' short paragraphs join depends on paragraphs elsewhere: on a
    longer copy the two share (its removal splits them, though neither changed), and on the
    first of a short paragraph's exact copies (only those paired with it can join)."""
    texts = dict(paragraphs_of([write_templates(tmp_path)]))
    index = dupindex.DupIndex.build(sorted(texts.items()), dedup.DEFAULT_THRESHOLD)
    court = texts["court#1"]
    steps = [  # (removed, added)
        (["reprint#1"], []),  # the story is no longer reprinted
        ([], [("reprint#1", texts["reprint#1"])]),  # and is again
        ([], [("court#1", texts["other#1"])]),  # court#1 replaced: other is reprinted instead
        ([], [("court#1", court), ("acourt#1", texts["other#1"]),  # a first copy of the
              ("acourt#2", "The case continues.")]),  # stock sentence, in other's story
        (["acourt#2"], []),
        (["court#1", "reprint#1", "acourt#1"], [("court#1", court), ("reprint#1", court)]),
    ]
    for removed, added in steps:
        index, _ = updated_as_find_groups(index, texts, removed, added)
    assert index.groups()["reprint#2"] == "court#2"


def test_a_chains_stars_follow_its_links_as_they_change():
    """a~b~c~d, a and c not alike: groups a+b and c+d; each change regroups the whole chain
    (b leads once a is gone) though most of it was not touched."""
    texts = dict(zip(["a#1", "b#1", "c#1", "d#1"], chain_texts()))
    texts.update({"e#1": texts["d#1"], "z#1": "Nothing like the others at all in any way."})
    index = dupindex.DupIndex.build(sorted(texts.items()), dedup.DEFAULT_THRESHOLD)
    assert index.groups() == dedup.find_groups(sorted(texts.items())) == {
        "a#1": "a#1", "b#1": "a#1", "c#1": "c#1", "d#1": "c#1", "e#1": "c#1", "z#1": "z#1"}
    steps = [(["a#1"], []), ([], [("a#1", texts["a#1"])]), (["c#1"], []),
             ([], [("c#1", texts["c#1"]), ("0#1", texts["d#1"])])]
    for removed, added in steps:
        index, expected = updated_as_find_groups(index, texts, removed, added)
    assert expected == {"0#1": "0#1", "a#1": "a#1", "b#1": "a#1", "c#1": "0#1", "d#1": "0#1",
                        "e#1": "0#1", "z#1": "z#1"}  # a copy of d first: c joins it


def test_stars_follow_the_dates_given_as_they_change():
    """Leaders in date order, undated last: built, updated and reloaded as find_groups."""
    texts = dict(zip(["a#1", "b#1", "c#1", "d#1"], chain_texts()))
    texts["e#1"] = texts["b#1"] + " Reuters"  # (alike to b, a and c: a copy of b)
    days = {"a#1": 5, "b#1": dedup.UNDATED, "c#1": 3, "d#1": 4, "e#1": 6}
    held = sorted(texts.items())
    index = dupindex.DupIndex.build(held, dedup.DEFAULT_THRESHOLD,
                                    dates=[days[pid] for pid, _ in held])
    expected = dedup.find_groups(held, dates=days)
    assert index.groups() == expected == {"a#1": "a#1", "b#1": "b#1", "c#1": "b#1",
                                          "d#1": "b#1", "e#1": "b#1"}  # c leads; a alone
    steps = [(["c#1"], [], {}), ([], [("c#1", texts["c#1"])], {"c#1": 7}),
             ([], [("b#1", texts["b#1"])], {"b#1": 1})]
    for removed, added, moved in steps:
        days.update(moved)
        index, expected = updated_as_find_groups(index, texts, removed, added, days)
    assert expected == {"a#1": "a#1", "b#1": "a#1", "c#1": "a#1", "d#1": "d#1",
                        "e#1": "a#1"}  # b first: a, c and e with it


@pytest.mark.parametrize("texts", [
    [], ["Minsk"], ["Minsk talks", "Minsk talks"],
    ["The talks in Minsk went on late into the night."],
])
def test_paragraphs_without_anchors_are_grouped(texts):
    """None at all, too short to have an n-gram anchor (exact copies join, if short only
    along with their story), or none short."""
    paragraphs = [(f"p{n}", text) for n, text in enumerate(texts)]
    built = dupindex.DupIndex.build(paragraphs, dedup.DEFAULT_THRESHOLD)
    assert built.groups() == dedup.find_groups(paragraphs)


def test_very_long_near_copies_join_though_the_bounds_counts_overflow():
    """Candidate pairs are ruled out in bulk by a bound on the 3-grams they can share, from
    counts per bucket of hashes (as many buckets as the average paragraph needs) that stop
    at 15 (four bits each): among 2,000 short paragraphs, two of 40,000 words overflow every
    bucket, and the copy with one word in a hundred changed must still join."""
    rng = random.Random(7)

    def words(count):
        return ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=7)) for _ in range(count)]

    long = words(40_000)
    copy = [w if i % 100 else "changed" for i, w in enumerate(long)]
    paragraphs = [("long#1", " ".join(long)), ("copy#1", " ".join(copy))] + [
        (f"short{n}#1", " ".join(words(10))) for n in range(2000)]
    groups = dupindex.DupIndex.build(paragraphs, 0.9).groups()
    assert groups == dedup.find_groups(paragraphs, 0.9)
    assert groups["long#1"] == groups["copy#1"] == "copy#1"


def test_a_committed_index_is_updated_where_it_lies(paragraphs, tmp_path):
    """An update reads a committed grouping mapped, its anchors' entries left in the file (read
    only, never copied whole): the same update as of the grouping read into memory, and the
    file as it was."""
    from searchkit.index import integrity

    built = dupindex.DupIndex.build(paragraphs[:600], 0.6)
    data = built.to_bytes()
    name = "dupindex-1.npz"
    (tmp_path / name).write_bytes(data)
    entry = integrity.summarize(str(tmp_path / name))
    mapped = dupindex.DupIndex.from_map(
        integrity.CheckedMap(str(tmp_path / name), entry, ValueError), 0.6)
    held = dupindex.DupIndex.from_bytes(data, 0.6)
    entries = mapped.anchors
    for array in (entries.base_anchors, entries.base_holders):
        while isinstance(array, (np.ndarray, memoryview)):  # (views of views of the map)
            array = array.base if isinstance(array, np.ndarray) else array.obj
        assert isinstance(array, mmap.mmap)
    assert len(entries) > 1000
    assert not (entries.base_anchors.flags.writeable or entries.base_holders.flags.writeable)
    texts = dict(paragraphs)
    gone = [pid for pid, _ in paragraphs[:600:9]]
    for index in (mapped, held):
        index.update(gone, paragraphs[600:640], lambda ids: {i: texts[i] for i in ids})
    assert mapped.groups() == held.groups() == dedup.find_groups(
        [(i, texts[i]) for i, _ in paragraphs[:640] if i not in gone])
    assert mapped.to_bytes() == held.to_bytes()
    assert (tmp_path / name).read_bytes() == data


def test_an_update_of_a_committed_index_copies_none_of_its_anchors_whole(tmp_path, monkeypatch):
    """Reading a committed index, updating it and writing its next file hold a piece of the
    anchors' entries at a time, never all of them: what they allocate at most (tracemalloc,
    numpy's arrays included) stays well under the entries' bytes, left in the file."""
    import tracemalloc

    from searchkit.index import integrity

    monkeypatch.setattr(anchorindex, "PIECE", 1 << 12)
    rng = random.Random(3)
    words = [f"w{n}" for n in range(5000)]
    paragraphs = [(f"a{n // 5}#{n % 5 + 1}", " ".join(rng.choice(words) for _ in range(40)))
                  for n in range(20_000)]
    path = tmp_path / "dupindex-1.npz"
    with open(path, "wb") as out:
        dupindex.DupIndex.build(paragraphs, 0.6).write(out)
    entry = integrity.summarize(str(path))
    texts = dict(paragraphs)
    added = [(f"b{n}#1", " ".join(rng.choice(words) for _ in range(40))) for n in range(20)]
    tracemalloc.start()
    try:
        index = dupindex.DupIndex.from_map(
            integrity.CheckedMap(str(path), entry, ValueError), 0.6)
        entries_bytes = len(index.anchors) * 12
        index.update([pid for pid, _ in paragraphs[:50]], added,
                     lambda ids: {i: texts[i] for i in ids})
        with open(tmp_path / "dupindex-2.npz", "wb") as out:
            index.write(out)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert entries_bytes > 8_000_000 and peak < entries_bytes / 2, (peak, entries_bytes)
    kept = dupindex.DupIndex.from_bytes((tmp_path / "dupindex-2.npz").read_bytes(), 0.6)
    assert kept.groups() == dedup.find_groups(paragraphs[50:] + added)


_ID = st.text(st.sampled_from("ab#/é\ud800x"), max_size=6)


@pytest.mark.parametrize("piece", [1, 3, 1 << 20])
@given(read=st.lists(st.tuples(_ID, st.booleans()), max_size=12),
       steps=st.lists(st.tuples(st.booleans(), st.integers(0, 30), _ID), max_size=12))
def test_slot_ids_are_the_list_of_ids_they_replace(piece, read, steps):
    """An update's ids (one buffer as read, and those added since) answer as a list of the
    ids, None for a freed slot, would: by slot, all at once, by id, by article, as bytes
    (the buffer read ``piece`` bytes or so at a time)."""
    slotids._BYTES_AT_A_TIME, before = piece, slotids._BYTES_AT_A_TIME
    try:
        _compare_slot_ids(read, steps)
    finally:
        slotids._BYTES_AT_A_TIME = before


def _compare_slot_ids(read, steps):
    model = [pid if live else None for pid, live in read]
    ids = SlotIds.of(model)
    for add, slot, pid in steps:
        if add:
            ids.extend([pid])
            model.append(pid)
        elif slot < len(model):
            ids.free(slot)
            model[slot] = None
    assert len(ids) == len(model) and list(ids) == model
    assert [ids[s] for s in range(len(model))] == model
    assert ids.alive(len(model)).tolist() == [pid is not None for pid in model]
    wanted = {pid for pid, _ in read[::2]} | {pid for _, _, pid in steps[::3]}
    first = {}
    for slot, pid in enumerate(model):
        if pid in wanted:
            first[slot] = pid
    assert ids.slots_of(wanted) == first
    held = dupindex.DupIndex(0.6)  # (an update's ids: numbered by articles as any sequence)
    held.ids = ids
    article, numbers = held._article_numbers()
    expected = {}
    for slot, pid in enumerate(model):
        if pid is not None:
            name = dedup.article_of(pid)
            assert article[slot] == expected.setdefault(name, len(expected))
    assert numbers == expected and (article[[p is None for p in model]] == len(numbers)).all()
    joined = "\0".join("" if pid is None else pid for pid in model)
    assert ids.joined() == joined.encode("utf-8", "surrogatepass")
    again = SlotIds(ids.joined(), ids.alive(len(ids)))
    assert list(again) == model
    assert list(ids.held()) == [pid for pid in model if pid is not None]
    with pytest.raises(ValueError):
        SlotIds(b"a\0b", np.ones(3, bool))


def test_kept_as_bytes_for_its_threshold(paragraphs):
    index = dupindex.DupIndex.build(paragraphs[:400], 0.6)
    index.update([paragraphs[0][0]], [], lambda wanted: dict(paragraphs))
    data = index.to_bytes()
    loaded = dupindex.DupIndex.from_bytes(data, 0.6)
    assert loaded.groups() == index.groups() and len(loaded) == len(index) == 399
    assert dupindex.DupIndex.from_bytes(data, 0.7) is None
    assert dupindex.DupIndex.from_bytes(b"not an index", 0.6) is None


def test_a_hostile_index_is_not_used(paragraphs):
    index = dupindex.DupIndex.build(paragraphs[:100], 0.6)
    assert dupindex.DupIndex.from_bytes(index.to_bytes(), 0.6) is not None
    squeezed = io.BytesIO()  # compressed members could inflate past the bytes read
    with np.load(io.BytesIO(index.to_bytes())) as arrays:
        np.savez_compressed(squeezed, **arrays)
    assert dupindex.DupIndex.from_bytes(squeezed.getvalue(), 0.6) is None
    index.edges = np.array([[0, 10**9]], np.int64)  # a slot no paragraph has
    assert dupindex.DupIndex.from_bytes(index.to_bytes(), 0.6) is None
    index = dupindex.DupIndex.build(paragraphs[:100], 0.6)
    index.story = index.story + len(index.ids)  # stories of slots no paragraph has
    assert dupindex.DupIndex.from_bytes(index.to_bytes(), 0.6) is None
    for name in ("exact", "sizes", "short", "group", "component", "dates", "story"):
        index = dupindex.DupIndex.build(paragraphs[:100], 0.6)
        by_slot = getattr(index, name)  # a value a slot, made a table of the right length
        setattr(index, name, np.stack([by_slot, by_slot], axis=1))
        assert dupindex.DupIndex.from_bytes(index.to_bytes(), 0.6) is None, name
    data = dupindex.DupIndex.build(paragraphs[:100], 0.6).to_bytes()
    for cut in range(0, len(data), max(len(data) // 97, 1)):  # cut short anywhere
        assert dupindex.DupIndex.from_bytes(data[:cut], 0.6) is None
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    lying = io.BytesIO()  # anchors said to be a terabyte: nothing that size is made
    np.lib.format.write_array_header_1_0(
        lying, {"descr": "<u8", "fortran_order": False, "shape": (10**12,)})
    members["anchors.npy"] = lying.getvalue() + bytes(8)
    made = io.BytesIO()
    with zipfile.ZipFile(made, "w", zipfile.ZIP_STORED) as archive:
        for name, member in members.items():
            archive.writestr(name, member)
    assert dupindex.DupIndex.from_bytes(made.getvalue(), 0.6) is None
    directory = next(at for at in range(len(data)) if data.startswith(b"PK\x01\x02", at)
                     and data[at + 46:at + 57] == b"anchors.npy")  # its central record
    for offset in (len(data) - 3, 10**9):  # its member said to start past the end
        moved = bytearray(data)
        moved[directory + 42:directory + 46] = (offset).to_bytes(4, "little")
        assert dupindex.DupIndex.from_bytes(bytes(moved), 0.6) is None


def committed_words(index_dir):
    data = store.read_committed(index_dir, store.latest_generation(index_dir), "vocabulary")
    return vocabulary.from_bytes(data).words


def stored_groups(index_dir):
    with whoosh_index.open_dir(str(index_dir)).searcher() as searcher:
        return {f["id"]: f["dup_group"] for f in searcher.all_stored_fields()}


def test_adding_files_regroups_as_a_rebuild_would(tmp_path, monkeypatch):
    folder = tmp_path / "corpus"
    shutil.copytree(SEEDS, folder)
    for stem in (S002, S003):
        next(folder.glob(f"{stem}*.txt")).rename(tmp_path / f"{stem}.txt")
    index_dir = tmp_path / "ix"
    searchkit.build_index([folder], index_dir)
    asked = []
    update = dupindex.DupIndex.update

    def counting(self, removed, added, texts, dates=None):
        return update(self, removed, added, lambda wanted: asked.append(wanted) or texts(wanted),
                      dates)

    monkeypatch.setattr(dupindex.DupIndex, "update", counting)
    for stem in (S003, S002):
        shutil.move(tmp_path / f"{stem}.txt", folder / f"{stem}.txt")
        summary = searchkit.build_index([folder], index_dir)
        assert summary.added == 1
    rebuilt = tmp_path / "rebuilt"
    searchkit.build_index([folder], rebuilt)
    assert stored_groups(index_dir) == stored_groups(rebuilt)
    assert committed_words(index_dir) == committed_words(rebuilt)
    assert sum(map(len, asked)) < 50  # not the index's 341 paragraphs
    assert store.check(index_dir).ok


def test_a_changed_and_a_removed_file_regroup_as_a_rebuild_would(tmp_path):
    folder = tmp_path / "corpus"
    shutil.copytree(SEEDS, folder)
    index_dir = tmp_path / "ix"
    searchkit.build_index([folder], index_dir)
    changed = next(folder.glob(f"{S000}*.txt"))
    # a copy of 004's quoted paragraph joins its group; two of 000's own repeats go
    text = changed.read_text()
    quote = next(p for p in next(folder.glob(f"{S004}*.txt")).read_text().split("\n\n")
                 if "destructive" in p)
    changed.write_text(text.replace("About two hundred people", "Some people") + "\n\n" + quote)
    next(folder.glob(f"{S001}*.txt")).unlink()
    summary = searchkit.build_index([folder], index_dir, prune=True)
    assert (summary.updated, summary.removed) == (1, 1)
    rebuilt = tmp_path / "rebuilt"
    searchkit.build_index([folder], rebuilt)
    assert stored_groups(index_dir) == stored_groups(rebuilt)
    assert committed_words(index_dir) == committed_words(rebuilt)


def test_a_run_without_grouping_leaves_no_grouping_for_the_next(tmp_path):
    """A commit made without grouping has no near-duplicate index (the previous one's would
    describe other paragraphs): the next run groups everything again."""
    folder = tmp_path / "corpus"
    shutil.copytree(SEEDS, folder)
    moved = next(folder.glob(f"{S001}*.txt"))
    moved.rename(tmp_path / moved.name)
    index_dir = tmp_path / "ix"
    searchkit.build_index([folder], index_dir)
    shutil.move(tmp_path / moved.name, folder / moved.name)
    searchkit.build_index([folder], index_dir, find_duplicates=False)
    generation = store.latest_generation(index_dir)
    assert store.read_committed(index_dir, generation, "dupindex") is None
    next(folder.glob(f"{S002}*.txt")).unlink()
    searchkit.build_index([folder], index_dir, prune=True)
    rebuilt = tmp_path / "rebuilt"
    searchkit.build_index([folder], rebuilt)
    assert stored_groups(index_dir) == stored_groups(rebuilt)
    assert committed_words(index_dir) == committed_words(rebuilt)


def test_a_stopped_runs_grouping_is_not_committed_by_a_run_without(tmp_path, monkeypatch):
    """The grouping's file is written before the segments: a run stopped after it, whose
    leftover the sweep could not remove, must not lend it to the next commit."""
    folder = tmp_path / "corpus"
    shutil.copytree(SEEDS, folder)
    index_dir = tmp_path / "ix"
    searchkit.build_index([folder], index_dir)
    stale = store.read_committed(index_dir, store.latest_generation(index_dir), "dupindex")
    next_generation = store.latest_generation(index_dir) + 1
    store.write_committed(index_dir, next_generation, "dupindex", stale)  # journaled
    monkeypatch.setattr(durable, "sweep", lambda folder, keep_scratch=False: [])
    samples.write_wire(folder / "wire", stories=3)
    searchkit.build_index([folder], index_dir, find_duplicates=False)
    assert store.latest_generation(index_dir) == next_generation
    assert store.read_committed(index_dir, next_generation, "dupindex") is None


def test_each_paragraphs_stored_signature_is_its_texts(tmp_path):
    """The writer takes signatures from the grouping's hashes: on a fresh build and on an
    update, each is ``dedup.signature`` of the paragraph's own text."""
    folder = tmp_path / "corpus"
    shutil.copytree(SEEDS, folder)
    index = tmp_path / "ix"
    searchkit.build_index([folder], index)
    samples.write_wire(folder / "wire", stories=5)
    searchkit.build_index([folder], index)
    with store.open_index(index).searcher() as searcher:
        stored = list(searcher.reader().all_stored_fields())
    assert len(stored) > 20
    for fields in stored:
        assert fields["dup_signature"] == dedup.signature(fields["text"]), fields["id"]
