"""Paragraph numbers and dates are indexed at their exact value only (shift_step=0): the index
keeps the exact-value terms Whoosh's default fields made and drops the coarser ones, and every
query finds what it found with Whoosh's defaults."""

from datetime import date

import pytest
from conftest import SEEDS, samples_and, trust_schema
from reuters import write_slice
from samples import write_wire
from whoosh.fields import DATETIME, NUMERIC

import searchkit
from searchkit.index import build, schema
from searchkit.retrieval.syntax import Filters

NUMBERS = ("paragraph", "date")


def whoosh_default_numbers():
    """searchkit's schema with Whoosh's default precision steps for paragraph and date."""
    fields = schema.make_schema()
    for name, field in ((n, fields[n]) for n in NUMBERS):
        fields.remove(name)
        if name == "date":
            fields.add(name, DATETIME(stored=True, sortable=True))
        else:
            fields.add(name, NUMERIC(stored=True))
    return fields


def terms_by_paragraph(index_dir):
    """Every (field, term) with the ids of the paragraphs that have it."""
    with searchkit.index.store.open_index(index_dir).searcher() as searcher:
        reader = searcher.reader()
        ids = {n: fields["id"] for n, fields in enumerate(reader.all_stored_fields())}
        return {
            (name, term): sorted(ids[n] for n in reader.postings(name, term).all_ids())
            for name, term in reader.all_terms()
        }


@pytest.fixture(scope="module", params=samples_and("reuters21578"))
def both(request, tmp_path_factory):
    """Dated wire stories (30 invented or 60 of Reuters-21578) and the seeds, indexed with
    exact-value numbers and with Whoosh's defaults."""
    root = tmp_path_factory.mktemp("numbers")
    if request.param == "samples":
        write_wire(root / "wire", stories=30)
    else:
        write_slice(root / "wire", files=("000", "010"), per_file=30)
    sources = [root / "wire", SEEDS]
    searchkit.build_index(sources, root / "exact")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(build, "make_schema", whoosh_default_numbers)
        trust_schema(patch, whoosh_default_numbers)
        searchkit.build_index(sources, root / "default")
    return root / "exact", root / "default"


@pytest.fixture(autouse=True)
def whoosh_defaults_trusted(monkeypatch):
    """searchkit opens only indexes of its own schema: here one of Whoosh's defaults too."""
    trust_schema(monkeypatch, whoosh_default_numbers)


def test_only_the_exact_value_terms_are_left(both):
    exact, default = (terms_by_paragraph(d) for d in both)
    with searchkit.index.store.open_index(both[1]).searcher() as searcher:
        assert searcher.schema["date"].shift_step == 8  # the comparison is real
    for name in NUMBERS:
        coarse = {t for f, t in default if f == name and t[:1] != b"\x00"}
        assert coarse, name  # Whoosh's default made coarser terms...
        assert {t for f, t in exact if f == name} == {
            t for f, t in default if f == name and t[:1] == b"\x00"}  # ...and these
    assert exact == {k: v for k, v in default.items()
                     if k[0] not in NUMBERS or k[1][:1] == b"\x00"}


QUERIES = ["oil", "oil paragraph:2", "paragraph:[2 TO 4] oil", "date:1987 oil",
           "date:[19870301 TO 19870415] trade", "prices date:198703", "Belarus paragraph:1"]
FILTERS = [Filters(), Filters(since=date(1987, 3, 1), until=date(1987, 3, 31)),
           Filters(since=date(1987, 4, 1)), Filters(until=date(1987, 2, 28))]


def test_searches_find_the_same(both):
    with searchkit.open_index(both[0]) as exact, searchkit.open_index(both[1]) as default:
        found_any = 0
        for text in QUERIES:
            for filters in FILTERS:
                results = exact.search(text, limit=50, filters=filters)
                found_any += bool(results.hits)
                assert results == default.search(text, limit=50, filters=filters), (text, filters)
                for sort in ("date", "-date"):
                    assert exact.search(text, limit=20, filters=filters, sort=sort) == (
                        default.search(text, limit=20, filters=filters, sort=sort))
        assert found_any > len(QUERIES)
