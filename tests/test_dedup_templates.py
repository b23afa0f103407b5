"""Near-duplicates that are not: paragraphs that share a template (a list's labels, a table
row's words, a stock sentence) stay apart, while reprints with a dateline added or words
changed are still grouped; members are listed in paragraph order."""

import pytest

import searchkit
from searchkit.index import dedup

PICKS = [  # eleven critics' picks, as in BBC entertainment/368 (#9-#19)
    ("Tim Dams, Screen International", "The Aviator", "Clint Eastwood", "Hilary Swank"),
    ("Angie Errigo, Empire", "The Aviator", "Clint Eastwood", "Hilary Swank"),
    ("Philip French, The Observer", "The Aviator", "Martin Scorsese", "Hilary Swank"),
    ("Charles Gant, Heat", "The Aviator", "Clint Eastwood", "Hilary Swank"),
    ("Steven Gaydos, Variety", "The Aviator", "Martin Scorsese", "Hilary Swank"),
    ("Jamie Graham, Total Film", "The Aviator", "Martin Scorsese", "Hilary Swank"),
    ("Wendy Ide, The Times", "The Aviator", "Martin Scorsese", "Imelda Staunton"),
    ("Jonathan Ross, Film 2005", "The Aviator", "Martin Scorsese", "Hilary Swank"),
    ("Tim Dams, Screen International", "Million Dollar Baby", "Clint Eastwood", "Hilary Swank"),
    ("Angie Errigo, Empire", "The Aviator", "Martin Scorsese", "Hilary Swank"),
    ("Philip French, The Observer", "Sideways", "Martin Scorsese", "Imelda Staunton"),
]
WIRE = ("The harbour authority said on Monday that the northern breakwater would be rebuilt "
        "over three years, at a cost the council has not yet agreed to share with the port.")
SHARES = ("Shares of {company} rose {figure}% on {day} after the company reported quarterly "
          "results that beat analysts' expectations. Traders said the rally could last.")
OTHER = ("Fishermen who use the old quay said the work should start before the autumn storms, "
         "when the swell is at its worst and the boats stay in.")
FILLERS = [f"Filler paragraph number {n} of the article, about tides and {n} ropes."
           for n in range(3, 10)]
THIRD = ("A jury of nine women and three men was sworn in at the crown court on Tuesday to "
         "hear evidence about the missing cargo.")


def picks_article():
    lines = ["Critics back Aviator for Oscars", "",
             "Martin Scorsese's The Aviator will win best film at the Oscars, according to the "
             "leading movie critics asked by the website this week.", ""]
    for critic, film, director, actress in PICKS:
        lines += [f"- {critic}: Film - {film}; director - {director}; actor - Jamie Foxx; "
                  f"actress - {actress}.", ""]
    return "\n".join(lines)


def template_files():
    """File name -> text: a list of picks, two earnings tables, a reprinted story and a stock
    sentence, a paragraph repeated."""
    return {
        "picks.txt": picks_article(),
        # Earnings tables of two companies: the same labels, other figures.
        "alpha.txt": "Alpha Corp results\n\nShr loss 75 cts vs loss 1.36 dlrs Net loss "
                     "1,234,000 vs loss 2,345,000 Revs 12.3 mln vs 11.2 mln\n",
        "beta.txt": "Beta Inc results\n\nShr loss 12 cts vs loss 1.78 dlrs Net loss 987,000 "
                    "vs loss 1,456,000 Revs 9.8 mln vs 10.1 mln\n",
        # A court story and an unrelated one ending with the same stock sentence, and a
        # reprint of the first (a dateline added, two words changed), stock sentence and all.
        "court.txt": f"Court hears harbour case\n\n{WIRE}\n\nThe case continues.\n",
        "other.txt": f"Another court case\n\n{THIRD}\n\nThe case continues.\n",
        "reprint.txt": "Breakwater case reprinted\n\nLONDON (Reuters) - "
        + WIRE.replace("three years", "four years").replace("council", "county")
        + "\n\nThe case continues.\n",
        # A paragraph repeated inside its article at #2 and #10, and once elsewhere.
        "repeats.txt": "Repeats\n\nThe harbour has a long history of storms and repairs.\n\n"
        + "\n\n".join([OTHER] + FILLERS + [OTHER]) + "\n",
        "quoted.txt": "Quoted\n\n" + OTHER.replace("Fishermen", "Sailors") + "\n",
        # market reports on one template: another company and figure each
        **{f"shares-{n}.txt": "Market update\n\n"
           + SHARES.format(company=company, figure=n + 2, day="Monday") + "\n"
           for n, company in enumerate(["Nordfish", "Vantec", "Orimo", "Kalbank"])},
    }


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    folder = tmp_path_factory.mktemp("templates")
    corpus = folder / "corpus"
    corpus.mkdir()
    files = template_files()
    for name, text in files.items():
        (corpus / name).write_text(text, encoding="utf-8")
    searchkit.build_index([corpus], folder / "ix")
    with searchkit.open_index(folder / "ix") as searcher:
        groups = searcher.duplicate_groups()
    return folder / "ix", {frozenset(m.id for m in g.members): g for g in groups}


def test_a_lists_items_are_not_copies_of_each_other(index):
    _, groups = index
    assert not [g for g in groups if any(pid.startswith("picks#") for pid in g)]


def test_figures_of_another_report_are_not_a_copy(index):
    _, groups = index
    assert frozenset({"alpha#1", "beta#1"}) not in groups
    assert not [g for g in groups if any(pid.startswith("shares-") for pid in g)]


def test_reprints_are_grouped_and_their_stock_sentence_with_them(index):
    _, groups = index
    assert frozenset({"court#1", "reprint#1"}) in groups  # dateline added, words changed
    assert frozenset({"court#2", "reprint#2"}) in groups  # "The case continues." reprinted
    assert not [g for g in groups if "other#2" in g]  # the same words in another story


def test_members_are_listed_in_paragraph_order(index):
    index_dir, groups = index
    (group,) = [g for g in groups.values() if "repeats#2" in {m.id for m in g.members}]
    assert [m.id for m in group.members] == ["quoted#1", "repeats#2", "repeats#10"]
    with searchkit.open_index(index_dir) as searcher:
        view = searcher.show("quoted#1")
    assert [d.id for d in view.duplicates] == ["repeats#2", "repeats#10"]


@pytest.mark.parametrize("a, b", [
    ("- Tim Dams, Screen: Film - The Aviator; director - Clint Eastwood; actor - Jamie Foxx; "
     "actress - Hilary Swank.",
     "- Angie Errigo, Empire: Film - The Aviator; director - Clint Eastwood; actor - Jamie "
     "Foxx; actress - Hilary Swank."),
    ("J Robinson (capt); M Cueto, J Noon, O Barkley, J Lewsey; C Hodgson, H Ellis; G Rowntree, "
     "S Thompson, M Stevens; D Grewcock, B Kay; J Worsley, L Moody, M Corry.",
     "J Robinson (capt); M Cueto, J Noon, O Barkley, J Lewsey; C Hodgson, H Ellis; G Rowntree, "
     "S Thompson, P Vickery; D Grewcock, B Kay; J Worsley, L Moody, M Corry."),
    ("Shr loss 75 cts vs loss 1.36 dlrs Net loss 1,234,000 vs loss 2,345,000",
     "Shr loss 12 cts vs loss 1.78 dlrs Net loss 987,000 vs loss 1,456,000"),
    # another company, another figure (the day may change too: it is no name)
    (SHARES.format(company="Nordfish", figure="3", day="Monday"),
     SHARES.format(company="Vantec", figure="5", day="Tuesday")),
])
def test_template_pairs(a, b):
    assert dedup.template_pair(a, b)
    assert not dedup.near_duplicates(a, b)
    assert dedup.near_duplicates(a, a)  # an exact copy of a list is still a copy
    assert dedup.near_duplicates(a, "LONDON (Reuters) - " + a)  # and a reprint of it


@pytest.mark.parametrize("original, copy", [
    (SHARES.format(company="Nordfish", figure="3", day="Monday"),  # a figure updated
     SHARES.format(company="Nordfish", figure="4", day="Monday")),
    (SHARES.format(company="Nordfish", figure="3", day="Monday"),  # a name corrected
     SHARES.format(company="Nordfisk", figure="3", day="Monday")),
    (SHARES.format(company="Nordfish", figure="3", day="Monday"),  # a sentence's first word
     SHARES.format(company="Nordfish", figure="4", day="Monday").replace(
         "Traders", "Dealers")),
])
def test_a_reprint_that_changes_a_figure_or_a_name_is_a_copy(original, copy):
    assert not dedup.template_pair(original, copy)
    assert dedup.near_duplicates(original, copy)


@pytest.mark.parametrize("copy", [
    "MINSK, Aug 18 (Reuters) - " + WIRE,
    WIRE + " (Reporting by Jane Doe; Editing by John Smith)",
    WIRE.replace("Monday", "Tuesday").replace("three", "four"),
    WIRE.replace("said on Monday", "said on Monday, August 17,"),  # a date added
])
def test_reprints_are_near_duplicates(copy):
    assert not dedup.template_pair(WIRE, copy)
    assert dedup.near_duplicates(WIRE, copy)


def test_short_paragraphs_need_a_reprinted_story():
    assert not dedup.near_duplicates("The case continues.", "The case continues.")
    assert dedup.near_duplicates("The case continues.", "The case continues.",
                                 stories_related=True)
