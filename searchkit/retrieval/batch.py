"""Batch search: query files in, ranked lists out (TREC run format or JSON lines), for scoring
with standard tools (trec_eval, ir-measures).

A query file is TSV (``id<TAB>text`` a line) or BEIR-style JSON lines (``{"_id": ..., "text":
...}``; ``id`` is taken too); a file whose first non-blank line starts with ``{`` is JSON lines.
Blank lines are skipped. A malformed line (no tab, no id or text, not a JSON object, an id with
spaces, an id seen before) is a warning naming its line; the other lines are read.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Optional, Tuple

from .. import arguments
from ..errors import QueryFileError
from ..ingest.safeload import load_json
from ..model import DocumentHit
from ..model import dumps

_SPACE = re.compile(r"\s")


@dataclass(frozen=True)
class BatchQuery:
    line: int  # 1-based line number in the query file
    id: str
    text: str


def read_queries(path: Path) -> Tuple[List[BatchQuery], List[str]]:
    """The queries of a query file, in file order, and a warning for each line left out.
    QueryFileError if the file cannot be read as UTF-8 text."""
    path = arguments.path("path", path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise QueryFileError(
            f"{path}: not UTF-8 text (byte {error.object[error.start]:#04x} at offset "
            f"{error.start}); save the query file as UTF-8"
        ) from None
    except OSError as error:
        raise QueryFileError(f"{path}: cannot read it: {error.strerror or error}") from None
    lines = text.splitlines()
    first = next((line.lstrip() for line in lines if line.strip()), "")
    parse = _json_line if first.startswith("{") else _tsv_line
    queries: List[BatchQuery] = []
    warnings: List[str] = []
    seen = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            qid, query = parse(line)
            if _SPACE.search(qid):
                raise ValueError(f"query id {qid!r} contains white space")
            if qid in seen:
                raise ValueError(f"query id {qid!r} already used on line {seen[qid]}")
        except ValueError as problem:
            warnings.append(f"{path} line {number}: {problem}; line skipped")
            continue
        seen[qid] = number
        queries.append(BatchQuery(number, qid, query))
    return queries, warnings


def _tsv_line(line: str) -> Tuple[str, str]:
    qid, tab, query = line.partition("\t")
    if not tab:
        raise ValueError("no tab between the query id and the query (id<TAB>text)")
    qid, query = qid.strip(), query.strip()
    if not qid:
        raise ValueError("no query id before the tab")
    if not query:
        raise ValueError(f"query {qid!r} has no text")
    return qid, query


def _json_line(line: str) -> Tuple[str, str]:
    try:
        record = load_json(line)
    except ValueError as error:
        raise ValueError(f"not valid JSON ({error.msg})") from None
    if not isinstance(record, dict):
        raise ValueError(f"a JSON {type(record).__name__}, not an object")
    qid = record.get("_id", record.get("id"))
    if isinstance(qid, bool) or not isinstance(qid, (str, int)) or not str(qid).strip():
        raise ValueError('no query id ("_id")')
    query = record.get("text")
    if not isinstance(query, str) or not query.strip():
        raise ValueError(f'query {str(qid)!r} has no "text"')
    return str(qid).strip(), query.strip()


def trec_lines(qid: str, hits: Iterable[DocumentHit], run_name: str) -> str:
    """One query's ranked list in TREC run format: ``qid Q0 docid rank score run``."""
    return "\n".join(f"{qid} Q0 {h.doc_id} {h.rank} {h.score:.4f} {run_name}" for h in hits)


def jsonl_line(query: BatchQuery, hits: Iterable[DocumentHit], error: Optional[str] = None):
    """One query's ranked list as one JSON object."""
    record = {
        "qid": query.id,
        "query": query.text,
        "results": [
            {"rank": h.rank, "doc_id": h.doc_id, "score": h.score,
             "article_id": h.article_id, "paragraph_id": h.paragraph_id}
            for h in hits
        ],
    }
    if error:
        record["error"] = error
    return dumps(record)
