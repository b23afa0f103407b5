"""Near-identical paragraphs: grouped at index time, collapsed at query time."""

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import S000, S001, S002, S003, S004, SEEDS

import searchkit
from searchkit.index import dedup, dupindex, listing
from searchkit.cli.commands import main


def seed_file(stem):
    return next(SEEDS.glob(f"{stem}*.txt"))


def groups_in(index_dir):
    with searchkit.open_index(index_dir) as searcher:
        return {frozenset(m.id for m in g.members) for g in searcher.duplicate_groups()}


@pytest.fixture(scope="module")
def seed_groups(seed_index):
    return groups_in(seed_index)


def test_verbatim_repeats_and_a_small_change_in_000(seed_groups):
    for first, again in ((19, 34), (20, 35), (21, 36)):
        assert frozenset({f"{S000}#{first}", f"{S000}#{again}"}) in seed_groups
    # "About two hundred people gathered ... Minsk, the capital, where" / "Almost two hundred
    # people gathered ... Minsk, where"
    assert frozenset({f"{S000}#18", f"{S000}#33"}) in seed_groups


def test_reprints_with_small_edits_across_the_stories_of_002(seed_groups):
    expected = [
        (f"{S002}:10#5", f"{S002}:11#9"),  # "Opposition leader" added in front
        (f"{S002}:10#18", f"{S002}:11#8"),  # "the August 9 elections with some" -> "the election"
        (f"{S002}:10#1", f"{S002}:12#8"),  # caption reworded: "File photo:", demonstration -> rally
        (f"{S002}:12#1", f"{S002}:12#2"),  # caption with "File photo:" in front
        (f"{S002}:7#1", f"{S002}:7#2"),  # caption with and without its credit
        (f"{S002}:7#15", f"{S002}:7#16"),  # the same caption twice
    ]
    for pair in expected:
        assert frozenset(pair) in seed_groups, pair


def test_the_same_event_in_other_words_stays_apart(seed_groups):
    """000 and 001 are two versions of one story, written separately."""
    for group in seed_groups:
        files = {member.split("#")[0].split(":")[0] for member in group}
        assert not {S000, S001} <= files, group


def test_grouping_does_not_depend_on_the_order_files_are_indexed(tmp_path, seed_groups):
    forward, backward = tmp_path / "forward", tmp_path / "backward"
    stems = [S000, S001, S002, S003, S004]
    for stem in stems:
        searchkit.build_index([seed_file(stem)], forward)
    for stem in reversed(stems):
        searchkit.build_index([seed_file(stem)], backward)
    assert groups_in(forward) == groups_in(backward) == seed_groups


def test_adding_a_file_joins_its_paragraphs_to_existing_ones(tmp_path):
    searchkit.build_index([seed_file(S004)], tmp_path)
    assert groups_in(tmp_path) == set()
    summary = searchkit.build_index([seed_file(S003)], tmp_path)
    assert summary.regrouped == 1  # 004#5 was alone; now 003#7 has the same quote
    assert groups_in(tmp_path) == {frozenset({f"{S003}#7", f"{S004}#5"})}
    with searchkit.open_index(tmp_path) as searcher:
        (group,) = searcher.search('"prevent destructive forces"').groups
    assert group.leader.id in {f"{S003}#7", f"{S004}#5"}
    assert [d.id for d in group.duplicates] == list({f"{S003}#7", f"{S004}#5"} - {group.leader.id})


def test_a_stricter_threshold_regroups_the_index(tmp_path):
    searchkit.build_index([seed_file(S000)], tmp_path)
    assert frozenset({f"{S000}#18", f"{S000}#33"}) in groups_in(tmp_path)
    searchkit.build_index([seed_file(S000)], tmp_path, dedup_threshold=0.99)
    groups = groups_in(tmp_path)
    assert frozenset({f"{S000}#18", f"{S000}#33"}) not in groups
    assert frozenset({f"{S000}#19", f"{S000}#34"}) in groups  # exact copies stay together
    searchkit.build_index([seed_file(S000)], tmp_path)  # the index keeps its threshold
    assert groups_in(tmp_path) == groups
    stats = CliRunner().invoke(main, ["stats", "--index", str(tmp_path)]).stdout
    assert "dedup threshold  0.99" in stats.splitlines()  # which it says


# A story edited a few words at a time, each printing from the one before: each is a near
# copy of the next, the first and third are not.
CHAIN_WORDS = ("the harbour authority said late on its website that the northern pier would "
               "reopen for ferries and fishing boats once divers had finished checking every "
               "pillar for cracks").split()
CHAIN_EDITS = [(), ((3, "early"), (13, "yachts")), ((9, "southern"), (19, "inspecting")),
               ((6, "notice"), (22, "pier"))]


def chain_texts():
    texts, edited = [], list(CHAIN_WORDS)
    for edits in CHAIN_EDITS:
        for position, word in edits:
            edited[position] = word
        texts.append(" ".join(edited).capitalize() + ".")
    return texts


def test_a_chain_of_edited_copies_groups_as_stars_not_end_to_end(tmp_path):
    a, b, c, d = chain_texts()
    assert all(dedup.near_duplicates(x, y) for x, y in ((a, b), (b, c), (c, d)))
    assert not dedup.near_duplicates(a, c) and not dedup.near_duplicates(b, d)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in zip("abcd", (a, b, c, d)):
        (corpus / f"{name}.txt").write_text(f"Story {name}\n\n{text}\n")
    searchkit.build_index([corpus], tmp_path / "index")
    assert groups_in(tmp_path / "index") == {frozenset({"a#1", "b#1"}),
                                             frozenset({"c#1", "d#1"})}
    with searchkit.open_index(tmp_path / "index") as searcher:
        (first, second) = searcher.search(c).groups
    assert {first.leader.id, *(copy.id for copy in first.duplicates)} == {"c#1", "d#1"}
    assert {second.leader.id, *(copy.id for copy in second.duplicates)} == {"a#1", "b#1"}
    (corpus / "a.txt").unlink()  # b now leads: c is alike to it, d is not
    searchkit.build_index([corpus], tmp_path / "index", prune=True)
    assert groups_in(tmp_path / "index") == {frozenset({"b#1", "c#1"})}


def test_the_earliest_printing_leads_its_group(tmp_path, monkeypatch):
    """c printed first: b and d (alike to it) are its copies, a (alike to b only) another
    story's; c's date moved after the others: b leads, with a and c."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    days = {"a": "2021-05-03", "b": "2021-05-02", "c": "2021-05-01", "d": "2021-05-04"}

    def write(name, day):
        text = chain_texts()["abcd".index(name)]
        (corpus / f"{name}.md").write_text(f"---\ntitle: Story {name}\ndate: {day}\n---\n\n"
                                           f"{text}\n")

    for name, day in days.items():
        write(name, day)
    searchkit.build_index([corpus], tmp_path / "index")
    assert groups_in(tmp_path / "index") == {frozenset({"b#1", "c#1", "d#1"})}
    write("c", "2021-05-09")
    searchkit.build_index([corpus], tmp_path / "index")
    assert groups_in(tmp_path / "index") == {frozenset({"a#1", "b#1", "c#1"})}
    searchkit.build_index([corpus], tmp_path / "rebuilt")
    assert groups_in(tmp_path / "rebuilt") == groups_in(tmp_path / "index")
    monkeypatch.setattr(dupindex, "VERSION", 99)  # regrouped from the stored paragraphs
    assert searchkit.build_index([corpus], tmp_path / "index").committed
    assert groups_in(tmp_path / "index") == {frozenset({"a#1", "b#1", "c#1"})}


def test_undated_printings_lead_in_the_order_their_group_is_listed(tmp_path):
    """s9, s10, s11 (no dates): s9 is listed first, so it leads; by the ids' text s10 would."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in zip(("s9", "s10", "s11"), chain_texts()):
        (corpus / f"{name}.txt").write_text(f"Story {name}\n\n{text}\n")
    searchkit.build_index([corpus], tmp_path / "index")
    with searchkit.open_index(tmp_path / "index") as searcher:
        (group,) = searcher.duplicate_groups()
    assert [m.id for m in group.members] == ["s9#1", "s10#1"]


def stars_pair_by_pair(component, threshold, dates):
    """dedup.stars written out: every leader tested against every paragraph left."""
    component = sorted(component, key=lambda paragraph: listing.listing_order(
        paragraph[0], dates.get(paragraph[0], dedup.UNDATED)))
    placed, groups = set(), {}
    for leader, text in component:
        if leader in placed:
            continue
        mine = dedup.shingles(text)
        alike = [pid for pid, other in component if pid not in placed and (
            dedup.words(other) == dedup.words(text) or min(len(mine), len(dedup.shingles(
                other))) >= dedup.MIN_SHINGLES and dedup.similarity(mine, dedup.shingles(
                    other)) >= threshold and not dedup.template_pair(text, other))]
        placed.update(alike)
        groups.update((pid, min(alike)) for pid in alike)
    return groups


def test_stars_are_each_leader_against_every_paragraph_left():
    """Random components (edited copies of copies, formula lines, cuts) at several
    thresholds: the prefix filter's leaders take what testing every pair would give."""
    rng = random.Random(11)
    vocabulary = ("the council said on tuesday that pier would reopen ferries fishing boats "
                  "divers checking pillar cracks market bank assistance").split()

    def text():
        if rng.random() < 0.3:
            return (f"Shr loss {rng.randrange(1, 30)} cts vs {rng.choice(['loss', 'profit'])} "
                    f"{rng.randrange(1, 30)} cts")
        return " ".join(rng.choice(vocabulary) for _ in range(rng.randrange(3, 40)))

    for case in range(300):
        component = {}
        for n in range(rng.randrange(3, 30)):
            words = rng.choice([text()] + list(component.values())[-4:]).split()
            for _ in range(rng.randrange(0, 4)):
                words[rng.randrange(len(words))] = rng.choice(vocabulary)
            component[f"a{rng.randrange(40)}#{n}"] = " ".join(words[:rng.randrange(1, 50)])
        dates = {pid: rng.choice([1, 2, dedup.UNDATED]) for pid in component}
        threshold = rng.choice([0.3, 0.6, 0.8])
        pairs = list(component.items())
        assert dedup.stars(pairs, threshold, dates=dates) == stars_pair_by_pair(
            pairs, threshold, dates), case


def test_a_long_chain_is_split_looking_at_few_paragraphs_a_leader(monkeypatch):
    """Each of 2,000 paragraphs shares a sentence with all and a window of words with its
    neighbours: a leader looks at its neighbours, not at every holder of the sentence."""
    rng = random.Random(3)
    stream = [f"w{rng.randrange(50_000)}" for _ in range(2_020)]
    opening = "the company said in a statement issued to the exchange on the day"
    chain = [(f"c{n:05d}#1", f"{opening} {' '.join(stream[n:n + 20])}") for n in range(2_000)]
    looked_at = []
    candidates = dedup._candidates
    monkeypatch.setattr(dedup, "_candidates", lambda *args: looked_at.append(
        len(found := candidates(*args))) or found)
    groups = dedup.stars(chain)
    assert len(set(groups.values())) == 200  # each leader takes the next ten or so
    assert sum(looked_at) < 10 * len(chain)  # (6,787; every holder of every shingle: millions)


def test_an_index_grouped_by_an_earlier_version_is_regrouped_by_the_next_run(
        tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in zip("abcd", chain_texts()):
        (corpus / f"{name}.txt").write_text(f"Story {name}\n\n{text}\n")
    with monkeypatch.context() as before:  # chains as one group, as version 4 grouped them
        before.setattr(dupindex, "VERSION", 4)
        before.setattr(dedup, "stars", lambda members, *_, **__: {
            pid: min(p for p, _ in members) for pid, _ in members})
        searchkit.build_index([corpus], tmp_path / "index")
    assert groups_in(tmp_path / "index") == {frozenset({"a#1", "b#1", "c#1", "d#1"})}
    summary = searchkit.build_index([corpus], tmp_path / "index")  # no file changed
    assert summary.committed and summary.regrouped == 2  # (c and d: a new key)
    assert groups_in(tmp_path / "index") == {frozenset({"a#1", "b#1"}),
                                             frozenset({"c#1", "d#1"})}
    assert not searchkit.build_index([corpus], tmp_path / "index").committed


def test_one_result_per_group_with_its_copies(searcher):
    results = searcher.search("two hundred people gathered detention center", limit=3)
    leader = results.groups[0]
    assert leader.leader.id == f"{S000}#33"
    assert [(d.id, d.exact) for d in leader.duplicates] == [(f"{S000}#18", False)]
    assert leader.leader.group == f"{S000}#18"
    assert f"{S000}#18" not in [h.id for h in results.hits]
    assert (results.total, results.total_groups) == (102, 100)


def test_reprints_are_each_paragraphs_other_places(searcher):
    for article in (S000, f"{S002}:2", f"{S000}#18"):
        view = searcher.show(article)
        expected = {p.number: searcher.show(p.id).duplicates for p in view.paragraphs}
        assert searcher.reprints(article) == {n: d for n, d in expected.items() if d}
    assert searcher.reprints(S000)  # (000 repeats its own paragraphs)
    with pytest.raises(searchkit.NotFoundError):
        searcher.reprints("nope")


def test_limit_counts_groups_not_paragraphs(searcher):
    collapsed = searcher.search("Tikhanovsky detention", limit=10)
    flat = searcher.search("Tikhanovsky detention", limit=10, collapse=False)
    assert len(collapsed.groups) == len(flat.hits) == 10
    assert len({h.group for h in collapsed.hits}) == 10
    assert len({h.group for h in flat.hits}) < 10


def test_exact_copies_share_a_signature():
    assert dedup.signature("He said: “No.”") == dedup.signature('he said "no"')
    assert dedup.signature("He said no.") != dedup.signature("She said no.")


def test_cli_shows_the_other_places_and_no_dedup_shows_every_paragraph(seed_index):
    run = CliRunner().invoke
    args = ["search", "Sergey Tikhanovsky husband arrested", "--index", str(seed_index), "-n", "1"]
    collapsed = run(main, args)
    assert collapsed.exit_code == 0, collapsed.stderr
    assert collapsed.stdout.splitlines()[-1].strip() == (
        "also in 1 other: —, undated, “Europeans are urging Putin to encourage dialogue to "
        f"resolve the crisis in Belarus” ({S000}#34)"
    )
    flat = run(main, args + ["--no-dedup", "-n", "2"])
    assert "also in" not in flat.stdout
    assert f"{S000}#19" in flat.stdout and f"{S000}#34" in flat.stdout

    record = json.loads(run(main, args + ["--format", "jsonl"]).stdout)
    assert record["group"] == f"{S000}#19"
    (copy,) = record["duplicates"]
    assert {"id", "source", "date", "title", "path", "text"} <= set(copy)
    assert (copy["id"], copy["exact"], copy["date"]) == (f"{S000}#34", True, None)
    assert (copy["source_from"], copy["date_from"]) == ("unknown", "unknown")


def test_every_place_says_how_its_source_and_date_were_found(tmp_path):
    """Who printed a paragraph first rests on each place's date: each says where it came from."""
    news = tmp_path / "news"
    news.mkdir()
    story = ("Belarusian security forces detained dozens of protesters on Tuesday as President "
             "Alexander Lukashenko rejected calls to step down after a disputed election.")
    (news / "wire.md").write_text(f"---\nsource: Reuters\ndate: 2020-08-18\n---\n\n{story}\n")
    (news / "early.txt").write_text(
        f"Belarus crackdown\n\nBy Staff Reporter for Earlybird News, August 17, 2020\n\n{story}\n")
    (news / "late.txt").write_text(f"Belarus crackdown\n\n{story}\n")
    searchkit.build_index([news], tmp_path / "index")
    run = CliRunner().invoke
    found = ["byline", "front-matter", "unknown"]
    result = run(main, ["duplicates", "--index", str(tmp_path / "index"), "--format", "jsonl"])
    members = json.loads(result.stdout)["members"]
    assert [(m["id"], m["source_from"], m["date_from"]) for m in members] == [
        ("early#1", "byline", "byline"), ("wire#1", "front-matter", "front-matter"),
        ("late#1", "unknown", "unknown")]
    result = run(main, ["search", "Lukashenko", "--index", str(tmp_path / "index"),
                        "--format", "jsonl"])
    record = json.loads(result.stdout)
    assert sorted([record["date_from"]] + [d["date_from"] for d in record["duplicates"]]) == found
    result = run(main, ["show", "late#1", "--index", str(tmp_path / "index"), "--format", "json"])
    assert [d["date_from"] for d in json.loads(result.stdout)["duplicates"]] == found[:2]


def test_duplicates_command(seed_index):
    run = CliRunner().invoke
    result = run(main, ["duplicates", "--index", str(seed_index), "--format", "jsonl"])
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 11 and all(r["size"] == 2 for r in records)
    about = next(r for r in records if r["group"] == f"{S000}#18")
    assert [(m["id"], m["exact"]) for m in about["members"]] == [
        (f"{S000}#18", True), (f"{S000}#33", False)]
    plain = run(main, ["duplicates", "--index", str(seed_index), "-n", "1"])
    assert plain.stdout.startswith("2 × About two hundred people gathered")
    none = run(main, ["duplicates", "--index", str(seed_index), "--min-size", "3"])
    assert (none.exit_code, none.stdout) == (0, "")
    assert "no groups of 3 or more" in none.stderr
    table = run(main, ["duplicates", "--index", str(seed_index), "--format", "table"])
    assert table.stdout.splitlines()[0].split()[:3] == ["size", "first", "(earliest)"]



def test_a_files_articles_are_listed_in_number_order(tmp_path):
    """A feed's 9th and 10th records both reprinting a story: :9 before :10, as #9 before #10."""
    story = ("Belarusian security forces detained dozens of protesters on Tuesday as President "
             "Alexander Lukashenko rejected calls to step down after a disputed election.")
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps({"title": f"t{n}", "text": story}) + "\n"
                            for n in range(1, 12)))
    searchkit.build_index([feed], tmp_path / "index")
    in_order = [f"feed:{n}#1" for n in range(1, 12)]
    with searchkit.open_index(tmp_path / "index") as searcher:
        (group,) = searcher.duplicate_groups()
        assert [m.id for m in group.members] == in_order
        assert [d.id for d in searcher.show("feed:1#1").duplicates] == in_order[1:]
    plain = CliRunner().invoke(main, ["duplicates", "--index", str(tmp_path / "index")])
    assert [line.split("(")[-1] for line in plain.stdout.splitlines()[1:4]] == [
        "feed:1#1)", "feed:2#1)", "feed:3#1)"]

# Text made of a few words over and over (a hostile file, or a 50 MB one-line file split into
# passages): every paragraph shares 4-grams with hundreds of others. Verifying every such pair
# took minutes and gigabytes; each paragraph's best MAX_CANDIDATES partners are enough.
FEW_WORDS = "council met tuesday crisis members agreed statement chair minsk vote talks".split()


def few_words_paragraphs(count, words=20, seed=5):
    rng = random.Random(seed)
    return [(f"p{i:05d}", " ".join(rng.choice(FEW_WORDS) for _ in range(words)))
            for i in range(count)]


def test_few_words_over_and_over_cost_a_bounded_number_of_checks():
    paragraphs = few_words_paragraphs(8000)
    anchors = [dedup.shingles(text, dedup.CANDIDATE_WORDS) for _, text in paragraphs]
    every_pair = sum(len(partners) for _, partners in dedup.candidates(anchors, most=8000))
    checked = sum(len(partners) for _, partners in dedup.candidates(anchors))
    assert every_pair > 2 * dedup.MAX_CANDIDATES * len(paragraphs)
    assert checked <= dedup.MAX_CANDIDATES * len(paragraphs)


def peak_mb() -> int:
    """This process's peak resident memory: VmHWM (ru_maxrss would keep the peak of pytest's
    process, its parent, across fork and exec)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmHWM:"))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_few_words_over_and_over_group_in_bounded_memory():
    # In a process of its own, for its peak memory: the pairs of 20,000 such paragraphs once
    # took 450 MB (and grow with the square of their number); now under 100 MB.
    script = (
        "from searchkit.index import dedup\n"
        "from test_dedup import few_words_paragraphs, peak_mb\n"
        "groups = dedup.find_groups(few_words_paragraphs(20000))\n"
        "assert len(groups) == 20000\n"
        "print(peak_mb())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=Path(__file__).parent, timeout=600)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) < 250  # MB


def test_groups_do_not_depend_on_the_order_even_when_candidates_are_cut():
    paragraphs = few_words_paragraphs(600, words=30)
    copies = [(f"c{i:05d}", text.replace("council", "Council!")) for i, (_, text) in
              enumerate(paragraphs[:50])]  # exact copies but for case and punctuation
    given = paragraphs + copies
    groups = dedup.find_groups(given)
    assert groups == dedup.find_groups(given[::-1])
    assert all(groups[c] == groups[p] for (c, _), (p, _) in zip(copies, paragraphs))
