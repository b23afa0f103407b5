"""A build's texts kept in a scratch file: stored in packs as they arrive, numbered in the
build's order, read back one at a time or a run at a time; and other byte strings so."""

import pickle

from hypothesis import given
from hypothesis import strategies as st

from searchkit.index import textfile
from searchkit.index.textfile import ScratchBytes, TextFile, Texts, pack

_TEXT = st.text(st.characters(blacklist_categories=("Cs",)) | st.sampled_from(
    ["\ud800", "é", "\u2019", "\x00", "\n"]), max_size=12)


@given(packs=st.lists(st.lists(_TEXT, max_size=5), max_size=6), order=st.randoms(),
       cut=st.integers(0, 40))
def test_texts_stored_in_any_order_are_read_in_the_order_added(tmp_path_factory, packs, order,
                                                               cut):
    column = TextFile(str(tmp_path_factory.mktemp("scratch")))
    arrival = list(range(len(packs)))
    order.shuffle(arrival)  # (a build's pieces arrive in any order)
    stored = {k: column.store([pack(packs[k])])[0] for k in arrival}
    for k in range(len(packs)):
        column.extend(stored[k])
    expected = [text for texts in packs for text in texts]
    texts = column.texts()
    assert len(texts) == len(expected) and list(texts) == expected
    assert [texts[n] for n in range(len(expected))] == expected
    assert list(texts[cut:]) == expected[cut:] and list(texts[:cut][1:]) == expected[:cut][1:]
    assert list(texts.lengths) == [len(text) for text in expected]
    if expected:
        assert texts[-1] == expected[-1]
    assert pickle.loads(pickle.dumps(texts[cut:])) == expected[cut:]  # (as a helper gets it)
    picked = sorted(order.sample(range(len(expected)), min(cut, len(expected))))
    assert texts.pick(picked) == [expected[n] for n in picked]
    column.close()


def test_a_run_of_texts_is_read_in_as_many_reads_as_it_was_stored_in(tmp_path, monkeypatch):
    import os

    column = TextFile(str(tmp_path))
    first, second = column.store([pack(["a", "bb"]), pack(["ccc"])])
    column.extend(second)
    column.extend(pack(["dddd", "e"]))  # (stored as it is added)
    column.extend(first)
    reads = []
    real = os.pread
    monkeypatch.setattr(os, "pread", lambda *args: reads.append(args) or real(*args))
    assert list(column.texts()) == ["ccc", "dddd", "e", "a", "bb"]
    assert len(reads) == 2  # "ccc" to "e", then "a", "bb"
    assert isinstance(column.texts()[1:3], Texts) and len(reads) == 2  # (read when gone through)
    assert list(tmp_path.iterdir()) == []  # no name in the folder
    column.close()


@given(groups=st.lists(st.lists(st.binary(max_size=9), max_size=5), max_size=8),
       order=st.randoms(), written_from=st.sampled_from([1, 7, 1 << 20]),
       a_read=st.sampled_from([1, 3, 4096]))
def test_byte_strings_kept_on_disk_read_back_by_number(tmp_path_factory, groups, order,
                                                       written_from, a_read):
    """Byte strings (empty ones too) added a group at a time, written to the scratch file
    with each group or a few bytes at a time or when first read: each one by its number,
    and any of them in any order."""
    saved = textfile._WRITTEN_FROM, textfile._STRINGS_A_READ
    textfile._WRITTEN_FROM, textfile._STRINGS_A_READ = written_from, a_read
    try:
        kept = ScratchBytes(str(tmp_path_factory.mktemp("scratch")))
        for group in groups:
            kept.add(b"".join(group), map(len, group))
        expected = [data for group in groups for data in group]
        numbers = list(range(len(expected))) * 2
        order.shuffle(numbers)
        assert len(kept) == len(expected)
        assert [kept.bytes_of(n) for n in range(len(expected))] == expected
        assert list(kept.in_order(numbers)) == [expected[n] for n in numbers]
    finally:
        textfile._WRITTEN_FROM, textfile._STRINGS_A_READ = saved
