"""The bulk segment writer writes what Whoosh's own writer writes: the same files byte for byte
when every block is compressed as Whoosh compresses it, and with small blocks left
uncompressed (the default) the same terms, postings, positions, weights, block statistics,
field lengths and totals, stored fields and columns, read back by a stock Whoosh reader.
Also the ranking arrays it hands over at the end of a segment."""

import itertools
import pickle
import random
import struct
import zlib
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from conftest import DATA, SEEDS
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC
from whoosh.util.numeric import byte_to_length, length_to_byte

from searchkit.index import bulkwrite, vocabulary
from searchkit.index.codec import BuildCodec
from searchkit.ingest.corpus import ReadOptions, find_files, read_bytes, read_file
from searchkit.errors import CorpusError
from searchkit.index.schema import article_fields, make_schema, paragraph_document

BBC = DATA / "bbc" / "politics"
SCIFACT = DATA / "scifact" / "corpus.jsonl"
WORDS = ("the minister said talks with the opposition would resume in Minsk on Monday "
         "after protests over the disputed election result").split()


def documents_of(paths, limit=None):
    """Paragraph documents as the indexer makes them (each its own group)."""
    files, _ = find_files(paths)
    docs = []
    for path, key, _real in files[:limit]:
        try:
            result = read_file(path, key, read_bytes(path, ReadOptions()), None, ReadOptions())
        except CorpusError:
            continue
        for article in result.articles:
            fields = article_fields(article)
            for paragraph in article.paragraphs:
                docs.append({**paragraph_document(fields, paragraph.id, paragraph.number,
                                                  paragraph.kind, paragraph.text),
                             "dup_group": paragraph.id})
    return docs


def odd_documents():
    """Text that tests the edges: empty fields, one word, 400-word passages, unicode, a stop
    word first, repeated words, shared texts and titles, missing optional fields."""
    rng = random.Random(7)
    texts = [
        "", "   ", "Minsk", "the", "The cat sat on the mat, and the cat ran.",
        "Café naïve Ærøskøbing Straße Łódź Đặng İstanbul ﬁnance 日本語 テスト",
        "don't it's O'Neill’s rock 'n' roll 3.5% U.S. v1.2.3 a*b",
        "talks talks talks talks talks", "a an of I", "the the Minsk the the Minsk",
        " ".join(rng.choice(WORDS) for _ in range(400)),
        " ".join(rng.choice(WORDS) for _ in range(399)) + " 日本",
    ]
    texts += [texts[4], texts[10]]  # documents sharing a text
    titles = ["", "Minsk talks", "Talks on talks in Minsk", "The the", "Ünïcode title"]
    docs = []
    for n, text in enumerate(texts + [" ".join(rng.sample(WORDS, 8)) for _ in range(150)]):
        doc = dict(
            id=f"odd/{n:03d}#1", article_id=f"odd/{n:03d}", doc_id=f"odd/{n // 3:03d}",
            path=f"/corpus/odd/{n:03d}.txt", paragraph=n % 4 + 1, kind="body",
            title=titles[n % len(titles)], source=["Reuters", "BBC", "unknown"][n % 3],
            source_from="manifest", date_from="unknown", text=text,
            dup_signature=f"{n:016x}", dup_group=f"odd/{n % 7:03d}#1")
        if n % 2:
            doc["date"] = datetime(1987, 3, 1 + n % 28)
        if n % 5 == 0:
            doc["url"] = f"https://example.org/{n}"
        docs.append(doc)
    return docs


def corpora():
    found = [pytest.param(lambda: documents_of([SEEDS]), id="seeds"),
             pytest.param(odd_documents, id="odd-text")]
    found.append(pytest.param(lambda: documents_of([BBC], limit=120), id="bbc-slice",
                              marks=pytest.mark.skipif(not BBC.is_dir(), reason="no BBC data")))
    found.append(pytest.param(scifact_documents, id="scifact-slice", marks=pytest.mark.skipif(
        not SCIFACT.is_file(), reason="no SciFact data")))
    return found


def scifact_documents():
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        part = Path(folder) / "scifact.jsonl"
        with SCIFACT.open(encoding="utf-8") as source:
            part.write_text("".join(itertools.islice(source, 300)), encoding="utf-8")
        return documents_of([part])


def whooshs_segment(docs, folder):
    """The segment Whoosh's own writer makes of ``docs`` (W3 with the ranking arrays beside
    it, as the index writes, separate files)."""
    ix = FileStorage(str(folder)).create().create_index(make_schema())
    writer = ix.writer(compound=False, codec=BuildCodec())
    for doc in docs:
        writer.add_document(**doc)
    writer.commit()
    return folder


def bulk_segment(docs, folder, **options):
    storage = FileStorage(str(folder)).create()
    ix = storage.create_index(make_schema())
    segment = bulkwrite.write_segment(storage, ix.schema, docs, **options)
    TOC(ix.schema, [segment], 1).write(storage, "MAIN")
    return folder


def segment_files(folder):
    return {p.name.split(".", 1)[1]: p.read_bytes() for p in Path(folder).glob("MAIN_*.*")}


@pytest.mark.parametrize("make", corpora())
def test_files_are_whooshs_byte_for_byte_when_every_block_is_compressed(make, tmp_path):
    docs = make()
    assert docs
    theirs = segment_files(whooshs_segment(docs, tmp_path / "whoosh"))
    ours = segment_files(bulk_segment(docs, tmp_path / "bulk", whoosh_bytes=True))
    assert {"trm", "pst", "_stored.col", "_text_len.col", "rank"} <= set(theirs)
    assert sorted(ours) == sorted(theirs)
    for name in theirs:
        assert ours[name] == theirs[name], name


@pytest.mark.parametrize("at_a_time", [1, 5])
def test_terms_written_a_few_postings_at_a_time_give_the_same_bytes(
        at_a_time, tmp_path, monkeypatch):
    """The writer turns postings into blocks a slice of terms at a time (its memory): where
    the slices fall changes nothing in the files."""
    docs = documents_of([SEEDS])
    whole = segment_files(bulk_segment(docs, tmp_path / "whole", whoosh_bytes=True))
    monkeypatch.setattr(bulkwrite, "_POSTINGS_AT_A_TIME", at_a_time)
    sliced = segment_files(bulk_segment(docs, tmp_path / "sliced", whoosh_bytes=True))
    assert sorted(sliced) == sorted(whole)
    for name in whole:
        assert sliced[name] == whole[name], name


def everything(folder):
    """All a reader can read of a one-segment index, block statistics included."""
    ix = FileStorage(str(folder)).open_index()
    with ix.reader() as reader:
        found = {"doc_count": reader.doc_count_all(), "terms": {}, "lengths": {}}
        for name, term in reader.all_terms():
            info = reader.term_info(name, term)
            matcher = reader.postings(name, term)
            postings, blocks = [], []
            while matcher.is_active():
                if isinstance(matcher, W3LeafMatcher) and matcher._i == 0:
                    blocks.append((matcher._blocklength, matcher.block_max_id(),
                                   matcher.block_max_weight(), matcher.block_min_length(),
                                   matcher.block_max_length()))
                fmt = reader.schema[name].format
                positions = (fmt.decode_positions(matcher.value())
                             if name in ("text", "title") else None)
                postings.append((matcher.id(), matcher.weight(), matcher.value(), positions))
                matcher.next()
            found["terms"][name, term] = (
                info.weight(), info.doc_frequency(), info.min_length(), info.max_length(),
                info.max_weight(), info.min_id(), info.max_id(), postings, blocks)
        for name in reader.schema.scorable_names():
            found["lengths"][name] = (
                reader.field_length(name),
                [reader.doc_field_length(n, name) for n in range(reader.doc_count_all())])
        found["stored"] = list(reader.all_stored_fields())
        found["columns"] = {
            name: list(reader.column_reader(name, translate=False))
            for name in reader.schema.names()
            if reader.schema[name].column_type and reader.has_column(name)}
    return found


def assert_read_the_same(ours, theirs):
    """Two ``everything``s are equal, told term by term where they differ."""
    assert ours["doc_count"] == theirs["doc_count"]
    assert ours["terms"].keys() == theirs["terms"].keys()
    for key, value in theirs["terms"].items():
        assert ours["terms"][key] == value, key
    assert ours["lengths"] == theirs["lengths"]
    assert ours["stored"] == theirs["stored"]
    assert ours["columns"] == theirs["columns"]


@pytest.mark.parametrize("make", corpora())
def test_a_stock_reader_reads_back_what_whooshs_writer_wrote(make, tmp_path):
    docs = make()
    theirs = everything(whooshs_segment(docs, tmp_path / "whoosh"))
    ours = everything(bulk_segment(docs, tmp_path / "bulk"))
    assert ours["doc_count"] == len(docs)
    assert_read_the_same(ours, theirs)
    # the totals are the sums of each document's length as its length byte reads back
    # (field_total), as the index's writer and any merge sum them
    schema = make_schema()
    for name in ("text", "title"):
        counts = [sum(freq for _, freq, _, _ in schema[name].index(d[name]))
                  for d in docs if d.get(name)]
        rounded = [byte_to_length(length_to_byte(n)) for n in counts]
        assert ours["lengths"][name][0] == sum(rounded) > 0


def test_small_blocks_stored_uncompressed_cost_less_than_positions_pickled_as_bytes(
        tmp_path):
    """Small blocks are stored plain (a few bytes more each), and a block's positions are
    pickled as bytes rather than as Whoosh's calls to _codecs.encode (far fewer bytes): the
    postings file comes out smaller than Whoosh's. Stored documents, pickled with a newer
    protocol (dates' bytes as bytes, short strings' lengths in a byte), take less too."""
    docs = documents_of([SEEDS])
    plain = segment_files(bulk_segment(docs, tmp_path / "a", whoosh_bytes=True))
    fast = segment_files(bulk_segment(docs, tmp_path / "b"))
    assert len(fast["pst"]) < len(plain["pst"])
    assert len(fast["_stored.col"]) < 0.95 * len(plain["_stored.col"])
    for size in (1, 100, 511, 512, 513, 5000, 70000):
        data = bytes(random.Random(size).choices(b"abcdefgh ", k=size))
        packed = bulkwrite.fast_compress(data, 3)
        assert zlib.decompress(packed) == data  # what Whoosh's reader does
        assert len(packed) <= 1.1 * len(zlib.compress(data, 3)) + 8  # about zlib's size


def test_terms_of_one_posting_are_the_blocks_pickle_makes(tmp_path, monkeypatch):
    """A term of one posting with weight 1 and no value (an id's) is written from numpy rows,
    not pickled: the same bytes, whatever the size of its document number, its weight's bits
    and its length bytes; a segment's postings file is the same either way."""
    docs = np.array([0, 1, 255, 256, 65535, 65536, 2**31 - 1], np.int64)
    weights = np.array([1.0, 1.0000000001, 1.0, 1.0, 1.0, 1.0, 1.0])
    low = np.array([0, 1, 7, 0, 255, 3, 0])
    high = np.array([0, 2, 255, 9, 255, 3, 0])
    made = bulkwrite._lone_postings(docs, weights, low, high, bulkwrite.BLOCK_PROTOCOL)
    for n, piece in enumerate(made):
        d, w, lo, hi = int(docs[n]), float(weights[n]), int(low[n]), int(high[n])
        data = pickle.dumps(((d,), None, None), bulkwrite.BLOCK_PROTOCOL)
        header = pickle.dumps((1, d, w, 0, lo, hi), 2)
        assert piece == b"W3Bl" + struct.pack("!i", -len(header + data)) + header + data
    with pytest.raises(ValueError):
        bulkwrite._lone_postings(np.array([2**31]), weights[:1], low[:1], high[:1], 3)
    seeds = documents_of([SEEDS]) + odd_documents()
    fast = segment_files(bulk_segment(seeds, tmp_path / "a"))
    monkeypatch.setattr(bulkwrite, "_LONE_DATA_MOST", bulkwrite.COMPRESS_FROM)  # none by rows
    assert segment_files(bulk_segment(seeds, tmp_path / "b")) == fast


def test_the_ranking_arrays_are_what_a_reader_reads_back(tmp_path):
    docs = documents_of([SEEDS]) + odd_documents()
    handed = []
    storage = FileStorage(str(tmp_path)).create()
    ix = storage.create_index(make_schema())
    segment = bulkwrite.write_segment(storage, ix.schema, docs,
                                      on_segment=lambda *args: handed.append(args))
    TOC(ix.schema, [segment], 1).write(storage, "MAIN")
    assert len(handed) == 1
    segment_id, arrays = handed[0]
    assert segment_id == segment.segment_id()
    assert arrays["doc_count"] == len(docs)
    with FileStorage(str(tmp_path)).open_index().reader() as reader:
        for name in ("text", "title"):
            given = arrays["fields"][name]
            offsets = given["term_offsets"]
            terms = [given["term_bytes"][offsets[i]:offsets[i + 1]].tobytes()
                     for i in range(len(offsets) - 1)]
            assert terms == list(reader.lexicon(name))
            assert given["postings"].dtype == np.int64 and given["docnums"].dtype == np.uint32
            assert given["weights"].dtype == np.float32
            for i, term in enumerate(terms):
                s, e = given["postings"][i], given["postings"][i + 1]
                matcher = reader.postings(name, term)
                ids, weights = [], []
                while matcher.is_active():
                    ids.append(matcher.id())
                    weights.append(matcher.weight())
                    matcher.next()
                assert given["docnums"][s:e].tolist() == ids
                assert given["weights"][s:e].tolist() == weights
            lengths = [length_to_byte(reader.doc_field_length(n, name) or 0)
                       for n in range(len(docs))]
            assert given["length_bytes"].dtype == np.uint8
            assert given["length_bytes"].tolist() == lengths
            assert given["total"] == reader.field_length(name)
        stored = list(reader.all_stored_fields())
        for name in ("source", "kind", "dup_group", "doc_id"):
            assert arrays["docs"][name].tolist() == [f.get(name) for f in stored]
        dates = arrays["docs"]["date"]
        assert dates.dtype == np.dtype("datetime64[D]")
        assert [None if np.isnat(d) else d.astype(datetime) for d in dates] == [
            f["date"].date() if "date" in f else None for f in stored]


def test_a_batch_with_unknown_fields_is_refused(tmp_path):
    storage = FileStorage(str(tmp_path)).create()
    ix = storage.create_index(make_schema())
    with pytest.raises(ValueError, match="not in the schema"):
        bulkwrite.write_segment(storage, ix.schema, [{"id": "a#1", "colour": "red"}])
    with pytest.raises(ValueError, match="_boost"):
        bulkwrite.write_segment(storage, ix.schema, [{"id": "a#1", "_boost": 2.0}])


def test_length_bytes_are_whooshs(tmp_path):
    lengths = np.array(list(range(0, 3000)) + [10**5, 106373, 106374, 10**6], np.int64)
    assert bulkwrite.length_bytes(lengths).tolist() == [length_to_byte(int(n)) for n in lengths]


def test_searches_score_the_same(tmp_path):
    docs = documents_of([SEEDS])
    queries = ["Belarus", "opposition leader", '"renounce violence"', "Merkel OR Putin",
               "sanctions -EU", "talks"]
    results = []
    for folder in (whooshs_segment(docs, tmp_path / "w"), bulk_segment(docs, tmp_path / "b")):
        from whoosh.qparser import MultifieldParser

        ix = FileStorage(str(folder)).open_index()
        with ix.searcher() as searcher:
            parser = MultifieldParser(["title", "text"], ix.schema)
            results.append([[(hit.docnum, hit.score) for hit in searcher.search(
                parser.parse(q), limit=20)] for q in queries])
    assert results[0] == results[1]
    assert any(results[0])


@pytest.mark.parametrize("make", corpora())
def test_the_vocabulary_from_the_writers_tokens_is_counted_from_the_texts(make):
    docs = make()
    odd = ["Lukašenka met Lukasenka.", "", "Oil, OIL and oil", "f*** the U.S.A. *stars*",
           "Oil, OIL and oil", "x.y.z a.*b 3.14 Ünïcode Ärger",
           "AT&T and R&D at 9/11, 24/7 and 12/05/2020; C++ and C# &gt; A+ £5m e-mail",
           "May 7.5/9 P May 8/9.5 P",  # (a fraction's token, then ".5": "9.5" no word)
           "a *** b"]  # (a token of no word)
    texts = [d.get("text") or "" for d in docs] + odd
    counted = np.array([i % 3 != 1 for i in range(len(texts))])
    tokens = bulkwrite.tokenize(make_schema()["text"], texts)
    ours = vocabulary.count_tokens(tokens, counted)
    theirs = vocabulary.count(t for t, c in zip(texts, counted) if c)
    assert (ours.paragraphs, ours.words, ours.names) == (
        theirs.paragraphs, theirs.words, theirs.names)
    assert ours.words
