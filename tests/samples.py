"""Invented news for tests that run without ../shared/data.

Every word here was written for these tests; no line of the real corpora is copied. The text
exercises what those corpora do: accents, ligatures and other scripts, plain and typographic
apostrophes, numbers, hyphens and dashes, currency signs, lists of short lines, markup and
entities as in an SGML wire feed; the files come in the encodings users have (UTF-8, cp1252
with one pound sign, Latin-1, UTF-16 with a byte order mark) and as JSON lines.
"""

import json
import random
from datetime import date, timedelta

# A sports story of 2.6 KB in cp1252 whose one non-ASCII byte (the pound sign) makes
# charset-normalizer guess Shift-JIS (cp932): only the letter statistics get it right.
ONE_POUND_SIGN = """Northbridge drop striker Kell

Northbridge Rovers have dropped striker Danny Kell for the rest of the season after a row with \
the coaching staff.

The 27-year-old, a £15.8m signing from Castlemere two summers ago, was sent home from training \
on Friday and told not to come back until further notice. Kell scored nine goals in his first \
twelve games but has found the net only twice since October. Several clubs abroad are believed \
to have asked about him in the January window.

Manager Ellen Forsythe said the decision had been taken by the whole board. "Nobody is bigger \
than this club, and the players know where the line is," she told reporters. "We wish him well, \
but we have a season to finish." The striker is thought to have refused to take part in a \
fitness session on Thursday.

Supporters had booed him off the pitch after the defeat at Harrowgate last weekend. The club \
said it would make no further comment while talks with his agent went on. A spokesman for the \
players' union said it was ready to help if asked. Kell's contract runs until the summer of \
next year, with an option for a further season.

Rovers are seventh in the table, six points off the play-off places with ten games left. \
Forsythe has already brought in two loan players to cover for injuries in defence. Assistant \
manager Rob Tilling will take charge of the reserves while the matter is settled. It is the \
second time in three years that the club has fallen out with a leading player.

He was capped four times by his country and played at the last under-21 tournament. Training \
resumes on Monday ahead of the home game against Lowmoor on Saturday. Kell did not reply to \
messages, and his agent said only that they were considering their options.

The row is the latest in a difficult season for Rovers, who were knocked out of both cup \
competitions before Christmas. Club captain Joe Marsh said the squad would not be distracted by \
the affair. Kell was the club's top scorer last season, with 17 goals in all competitions. The \
board is expected to meet again next week to discuss the striker's future. Fans' groups have \
called for an open meeting with the chairman before the end of the month.

Castlemere, who still receive a share of any future sale, declined to comment. Forsythe, who \
took over in the summer, has already made seven signings. A decision on whether Kell will be \
fined is expected after the meeting with his agent. Rovers' next away game is at Kingsbridge, \
where they have not won since 1998. Season-ticket holders were sent a letter from the chairman \
on Saturday morning. The chairman, Peter Lomax, said the club would "stand by its manager".
"""

# name -> (encoding, text): articles as a user's folder holds them, in the encodings users have.
ARTICLES = {
    "harbour.txt": ("utf-8", """Harbour strike ends after 11-day stand-off

PORTVALE, 14 March — Dock workers in Portvale voted on Tuesday to end an 11-day strike that \
left 1,250 containers stranded on the quay and cost the port an estimated €4.5m a day.

The union’s leader, Zoë Ångström-Okafor, said the deal was “not perfect, but fair”: a 3.5% \
rise this year, 2.75% in 2025/26 and a so-called safety bonus of 1.200 kroner for night shifts.

“We didn’t want this,” said crane driver Seán O'Neill’s brother, Dáithí. “Nobody wins a \
strike — the ships just go to Łódź-bound rail or to İzmir instead.”

Café owners on the waterfront, naïve about how long it would last, said trade fell by two-thirds; \
one, from São Tomé, kept her ﬁsh stall open with ﬂour-and-water signs reading “No. 1 — open”.

The port authority’s chief, Đặng Văn Minh, said the U.S.-owned terminal would reopen at 06:00 \
on Wednesday. Ships waiting offshore (x² the usual queue, by one estimate) will be served \
first-come, first-served. The opposition on the city council has called for an inquiry.
"""),
    "transfer.txt": ("cp1252", ONE_POUND_SIGN),
    "bistro.txt": ("latin-1", """Le bistrot de la gare rouvre ses portes

Après deux ans de travaux, le célèbre bistrot de la gare de Valmont a rouvert samedi, à la \
grande joie des habitués du quartier.

Le nouveau propriétaire, Benoît Lefèvre, âgé de 41 ans, a gardé le comptoir en zinc et les \
banquettes d'origine. « C'est un lieu où l'on se sent chez soi », a-t-il déclaré.

Le menu du jour coûte 14,50 euros ; la crème brûlée, spécialité de la maison, est servie dès \
midi. Les réservations sont ouvertes jusqu'à la fin du mois d'août.
"""),
    "letters.txt": ("cp1252", """Readers’ letters: the bypass, the bus fare and the “new” library

Sir — Your report on the bypass (“Council backs £80m road”, 3 June) didn’t mention that the \
route cuts through the water meadows. I’ve walked there for 30 years; it’s the town’s lungs.

Sir — The 20p rise in the bus fare is small, but for pensioners on the No. 7 route it’s the \
third this year. Could the council’s transport committee explain why?

Sir — The “new” library is the old one with fresh paint and fewer books. Façade aside, what \
exactly did the €2.1m grant pay for? — A. Müller, Eastgate
"""),
    "wire.txt": ("utf-16", """Grain talks in Moscow end without deal

MOSCOW, 2 April — Talks on grain exports between officials from Москва and Αθήνα ended \
without a deal on Thursday, trade sources said.

A statement from the ministry in 北京 said delegations from 東京 and Seoul (서울) would join \
the next round, planned for May. Prices of wheat for delivery in June rose 1.8% on the news.

The ministry's spokesman, Иван Петров, said both sides were “closer than before” and would \
meet again “within weeks”; the Greek side declined to comment.
"""),
    "results.txt": ("utf-8", """Varga and Brennan lead Valmont Open field

Top seed Anna Varga will open her defence of the Valmont Open title against a qualifier on \
Monday.

The seedings are:

1 Anna Varga (Hungary)

2 Maeve Brennan (Ireland)

3 Sofía Herrera (Argentina)

4 Kim Ji-woo (South Korea)

Monday's first-round matches:

Varga v Lindqvist

Brennan v Moreau

Herrera v Tanaka

Varga, 24, won the event last year without dropping a set.
"""),
    "charity.txt": ("utf-8", """Okafor/Brennan lead charity match stars

Amara Okafor and Maeve Brennan will captain the two sides in a charity match at the Valmont \
Arena next month, raising money for flood relief.

Tickets, priced from 10 to 25 euros, go on sale on Friday. Organisers hope to raise more than \
100,000 euros.
"""),
}

# Abstracts as in a BEIR corpus file: one JSON record a line with its own id, title and text.
ABSTRACTS = [
    {"_id": "4983", "title": "Sleep duration and memory consolidation in older adults",
     "text": "Shorter sleep was associated with poorer recall in a cohort of 1,204 adults aged "
             "65-80. The effect persisted after adjustment for age, sex and education (p < 0.01)."},
    {"_id": "5836", "title": "Coffee intake and the risk of atrial fibrillation",
     "text": "In 18,000 participants followed for 9.5 years, moderate coffee intake was not "
             "associated with atrial fibrillation. Heavy intake showed a small, non-significant "
             "increase."},
    {"_id": "7912", "title": "Vitamin D supplementation does not prevent fractures",
     "text": "A randomised trial of 2,500 women found no effect of vitamin D on hip or wrist "
             "fractures over five years; bone density rose by 1.1% in the treated group."},
    {"_id": "18670", "title": "β-blockers after myocardial infarction: a re-analysis",
     "text": "Re-analysis of three trials suggests that β-blockers reduce mortality only in "
             "patients with reduced ejection fraction. Others gained no benefit."},
    {"_id": "19238", "title": "Microbiome diversity in infants born by caesarean section",
     "text": "Infants born by caesarean section had lower gut microbiome diversity at 6 weeks; "
             "the difference was no longer detectable at 12 months."},
]

# Texts only an analyzer sees: an SGML wire story (tags, entities, a control character), a
# table of figures, a run of hyphenated and dotted words.
FRAGMENTS = [
    '<REUTERS NEWID="77"><DATE>14-MAR-1987 09:12:05.11</DATE><TITLE>ACME &lt;ACM&gt; RAISES '
    "DIVIDEND</TITLE><BODY>ACME Corp said its board raised the quarterly dividend to 18 cts "
    "a share from 15 cts, payable April 30.\n    The company said net profit rose 12.5 pct "
    "to 4.1 mln dlrs.\n Reuter\n\x03</BODY></REUTERS>",
    "Shr 1.02 dlrs vs 87 cts\n    Net 6,415,000 vs 5,466,000\n    Revs 101.3 mln vs 94.6 mln",
    "state-of-the-art anti-inflation well-to-do e-mail co-operate re-elect U.K.-based "
    "mid-2020s 1980s' 50-50 3-2 24/7 9/11 covid-19 H1N1 IPv6 C++ .NET #MeToo @handle",
]


def write_articles(folder):
    """Write ARTICLES into ``folder``, each in its encoding."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, (encoding, text) in ARTICLES.items():
        (folder / name).write_bytes(text.encode(encoding))  # "utf-16": with its byte order mark


def write_abstracts(path):
    """Write ABSTRACTS as JSON lines to ``path``."""
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ABSTRACTS),
                    encoding="utf-8")


def write_folder(folder):
    """ARTICLES and ABSTRACTS (as abstracts.jsonl) in ``folder``; return it."""
    write_articles(folder)
    write_abstracts(folder / "abstracts.jsonl")
    return folder


def texts():
    """Every text above as a string: articles, abstracts and fragments."""
    return ([text for _, text in ARTICLES.values()] + [r["title"] for r in ABSTRACTS]
            + [r["text"] for r in ABSTRACTS] + FRAGMENTS)


# The dated wire: stories made from these parts by a seeded generator, as many as a test needs.
COMPANIES = ["Acme Holdings", "Borealis Oil", "Castle Bank", "Delta Grain", "Eastgate Shipping",
             "Fairway Motors", "Granite Steel", "Harbour Trust", "Ironwood Mining",
             "Juniper Foods", "Kestrel Airways", "Lantern Insurance"]
PLACES = ["Valmont", "Northbridge", "Portvale", "Castlemere", "Lowmoor", "Kingsbridge",
          "Eastgate", "Harrowgate", "Southmere", "Westfold"]
PEOPLE = ["finance minister Karl Ostrand", "trade minister Ines Calloway",
          "President Anton Halvorsen", "central bank governor Mira Tansk",
          "oil company chief Farid Esmat", "farm lobby head Pia Lunde",
          "Prime Minister Oskar Brenner", "the president of the bankers' association"]
PERIODS = ["first-quarter", "second-quarter", "half-year", "nine-month", "full-year"]
MONTHS = ["January", "February", "March", "April", "September", "October"]
# Sentences by topic; a story keeps mostly to its topic, so that a query word such as "oil"
# matches a share of the paragraphs as in real wire copy, not half of them.
TOPICS = {
    "oil": [
        "Crude oil prices fell {pct} pct in {place} after {person} said output would rise.",
        "Analysts in {place} said oil stocks were {amount} mln barrels above a year ago.",
        "{company} will sell its {place} refinery to {company2} for {amount} mln dlrs.",
        "Oil companies showed little interest in the {place} licences, {person} said.",
        "Freight rates for oil tankers rose {pct} pct in {month}, {company} said.",
    ],
    "banks": [
        "{person} said {place} would cut interest rates by {small} point if inflation eased.",
        "The bank raised its prime rate to {rate} pct from {rate2} pct, effective {month} {day}.",
        "Interest on the notes is payable each {month}, {company} said.",
        "The {place} bank said interest rates on savings would stay at {rate} pct.",
        "{person} denied reports that {place} would devalue its currency.",
    ],
    "grain": [
        "Wheat exports from {place} reached {tonnes} tonnes in {month}, {person} said.",
        "Grain and oil shipments through {place} were delayed by a strike, {company} said.",
        "The government of {place} said it expected export prices to rise {pct} pct this year.",
    ],
    "companies": [
        "{company} said its {period} net profit rose {pct} pct to {amount} mln dlrs.",
        "{company} said its {period} loss widened to {amount} mln dlrs from {amount2} mln.",
        "{company} offered {amount} mln dlrs for a {pct} pct stake in {company2}.",
        "Shares of {company} rose {cents} cts to {price} dlrs on news of the offer.",
        "{company} shareholders will vote on the {amount} mln dlr offer on {month} {day}.",
    ],
    "politics": [
        "{person} told reporters that trade talks with {place} would resume next week.",
        "{person} said the trade deficit with {place} narrowed to {amount} mln dlrs in {month}.",
        "The president of {place}'s chamber of commerce said {person} had been invited.",
    ],
    "local": [
        "Heavy snow closed the road between {place} and {place2} for {day} hours on Monday.",
        "The {place} orchestra will tour {day} cities in {month}, its director said.",
        "Police in {place} said {day} people were hurt when a bus left the road.",
        "{place} beat {place2} in the regional football final on Sunday.",
        "A new bridge over the river at {place} is due to open in {month}, officials said.",
        "Schools in {place} will stay closed until Thursday because of flooding.",
        "Fire crews spent {day} hours putting out a blaze at a warehouse in {place}.",
    ],
}
TOPIC_WEIGHTS = {"oil": 2, "banks": 2, "grain": 1, "companies": 2, "politics": 2, "local": 9}


def wire_story(rng):
    """A title and two or three paragraphs of two or three sentences, mostly on one topic."""
    topic = rng.choices(list(TOPIC_WEIGHTS), weights=list(TOPIC_WEIGHTS.values()))[0]

    def sentence():
        values = dict(
            company=rng.choice(COMPANIES), company2=rng.choice(COMPANIES),
            place=rng.choice(PLACES), place2=rng.choice(PLACES), person=rng.choice(PEOPLE),
            period=rng.choice(PERIODS), month=rng.choice(MONTHS), day=rng.randint(2, 28),
            pct=rng.randint(2, 40), amount=f"{rng.randint(1, 900)}.{rng.randint(0, 9)}",
            amount2=rng.randint(1, 900), small=rng.choice(["half a", "one", "a quarter"]),
            tonnes=f"{rng.randint(1, 99)},000", rate=f"{rng.randint(4, 12)}.{rng.choice([0, 5])}",
            rate2=f"{rng.randint(4, 12)}.{rng.choice([25, 75])}", cents=rng.randint(5, 95),
            price=rng.randint(3, 120))
        other = rng.random() < 0.2  # now and then a sentence on another topic
        text = rng.choice(TOPICS[rng.choice(list(TOPICS)) if other else topic]).format(**values)
        return text[0].upper() + text[1:]

    paragraphs = [" ".join(sentence() for _ in range(rng.randint(2, 3)))
                  for _ in range(rng.randint(2, 3))]
    title = " ".join(paragraphs[0].split()[:8]).rstrip(",.")
    return title, paragraphs


def write_story(path, title, paragraphs):
    """A text article as the tests write them: its title, a blank line, its paragraphs."""
    path.write_text(title + "\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")


def write_stories(folder, stories):
    """Write {file name: (title, [paragraph, ...])} into ``folder`` with ``write_story``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, (title, paragraphs) in stories.items():
        write_story(folder / name, title, paragraphs)


def write_wire(folder, stories=200, source="Newswire", seed=1987):
    """Write ``stories`` invented wire stories dated in February, March, April and October 1987
    as ``<n>.txt`` (title line, blank line, paragraphs) with a manifest.json giving each its
    date and ``source``; return {file name: date}."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    dates = {}
    for number in range(1, stories + 1):
        title, paragraphs = wire_story(rng)
        name = f"{number}.txt"
        write_story(folder / name, title, paragraphs)
        month = rng.choice([2, 3, 4, 10])
        # Weekly dates: a date filter's cost grows with the distinct dates it spans.
        dates[name] = date(1987, month, 2) + timedelta(weeks=rng.randint(0, 3))
    manifest = {name: {"date": d.isoformat(), "source": source} for name, d in dates.items()}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return dates
