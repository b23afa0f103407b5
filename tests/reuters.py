"""A dated slice of Reuters-21578, read in place and written as articles for a test index.

Each story becomes `<NEWID>.txt` (title line, blank line, one line per paragraph) and its
<DATE> goes into the folder's manifest.json, as a user would bring dated wire copy.
"""

import html
import json
import re
from datetime import datetime

from conftest import DATA

REUTERS = DATA / "reuters21578"
_STORY = re.compile(r"<REUTERS[^>]*NEWID=\"(\d+)\">(.*?)</REUTERS>", re.S)


def _field(story, tag):
    match = re.search(rf"<{tag}>(.*?)</{tag}>", story, re.S)
    return html.unescape(match.group(1)) if match else ""


def write_slice(folder, files=("000", "005", "010", "015", "020"), per_file=40):
    """Write ``per_file`` stories with a title and body from each reut2-<n>.sgm; return
    {file name: date}."""
    folder.mkdir(parents=True, exist_ok=True)
    dates = {}
    for number in files:
        text = (REUTERS / f"reut2-{number}.sgm").read_text(encoding="latin-1")
        taken = 0
        for newid, story in _STORY.findall(text):
            title, body = _field(story, "TITLE"), _field(story, "BODY")
            if not title or len(body) < 200 or taken == per_file:
                continue
            body = body.replace("\x03", "").rsplit("Reuter", 1)[0]
            paragraphs = [" ".join(p.split()) for p in re.split(r"\n(?=\s)", body) if p.strip()]
            name = f"{newid}.txt"
            (folder / name).write_text(title + "\n\n" + "\n\n".join(paragraphs) + "\n")
            when = datetime.strptime(_field(story, "DATE").split()[0], "%d-%b-%Y").date()
            dates[name] = when
            taken += 1
    manifest = {name: {"date": d.isoformat(), "source": "Reuters"} for name, d in dates.items()}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return dates
