"""Sentence ends for snippets: searchkit's rules against NLTK's Punkt trained on the corpus.

    python bench/sentences.py [--no-train]

A snippet is made of whole sentences (searchkit/retrieval/snippets.py), so a full stop that
does not end one (Mr., U.S., Sept., No. 10, Corp.) must not cut it. GOLD below is a set of
news paragraphs written for this benchmark, each as its sentences, dense with abbreviations,
initials, decimals and quotations; the paragraph is its sentences joined by a space. Each
method's sentence ends are compared with the true ones: precision (ends that are true) and
recall (true ends found), and paragraphs split exactly right.

Methods: searchkit's ``sentence_spans`` (rules); NLTK's Punkt (unsupervised: no data
download) trained on the paragraphs of BBC and Reuters-21578 in ../shared/data (as a build
could train it on the corpus it indexes), and untrained (--no-train, or without the data).
"""

import argparse
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = REPO.parent / "shared" / "data"

from searchkit.retrieval.snippets import sentence_spans  # noqa: E402

GOLD = [
    ["Mr. Smith met U.S. officials on Sept. 11.", "They talked for an hour."],
    ["The talks at No. 10 Downing St. ended late.", "Mrs. May said nothing."],
    ["Acme Corp. said profits rose 3.5 pct in the quarter.", "Shares rose 12 cts."],
    ["Gen. Motors Corp. and Ford Motor Co. both cut prices.", "Analysts were surprised."],
    ["The U.S. economy grew.", "The U.K. economy shrank."],
    ["Dr. J. R. Smith, of St. Louis, Mo., testified.", "He was brief."],
    ["\"We will win,\" said Gov. Brown.", "The crowd cheered."],
    ["Sales were $1.2 bln vs. $1.1 bln a year ago.", "The company, based in Dallas, is "
     "profitable."],
    ["It opened at 9 a.m. on Monday.", "By noon it had closed."],
    ["The plan, e.g. new roads, costs money.", "Critics say it is too much."],
    ["Smith & Co. Inc. was sold to Jones Ltd. in Jan. 1987.", "Terms were not disclosed."],
    ["Lt. Col. Oliver North testified before Congress.", "He denied wrongdoing."],
    ["The score was 2-1 after 90 mins.", "Extra time followed."],
    ["He said: \"It is over.\"", "Then he left the room."],
    ["The E.U. and the U.N. disagreed.", "Talks resume on Oct. 3."],
    ["Prof. Hawking spoke at 3 p.m. in Cambridge.", "Tickets sold out."],
    ["Prices rose 0.5 pct in Feb., the data showed.", "Economists had expected 0.3 pct."],
    ["Rep. Smith (D., Calif.) voted against.", "The bill passed anyway."],
    ["Why did it fail?", "Nobody knows."],
    ["It was a shock!", "Markets fell 2 pct."],
    ["The firm's chief, Mr. J. Doe, resigned.", "His deputy, Ms. R. Roe, takes over."],
    ["The Nov. 5 vote was close.", "A recount is likely."],
    ["Exports rose to 4.5 mln tonnes vs. 3.9 mln.", "Imports fell."],
    ["The song was No. 1 for weeks.", "It sold a million copies."],
    ["He joined Microsoft Corp. in 1990.", "He left in 2000."],
    ["The meeting was at the Bank of England.", "Mr. George chaired it."],
    ["\"No,\" he said.", "\"Not now.\""],
    ["Sen. Dole and Sen. Kennedy spoke.", "Both backed the measure."],
    ["Ireland's Aer Lingus said traffic rose.", "It carried 1.1 mln passengers."],
    ["I.B.M. shares fell.", "Apple shares rose."],
]


def ends(spans) -> set:
    return {end for _, end in spans}


def gold_ends(sentences) -> set:
    found, at = set(), 0
    for sentence in sentences:
        at += len(sentence)
        found.add(at)
        at += 1
    return found


def punkt(train_texts):
    from nltk.tokenize.punkt import PunktSentenceTokenizer, PunktTrainer

    if not train_texts:
        return PunktSentenceTokenizer()
    trainer = PunktTrainer()
    trainer.INCLUDE_ALL_COLLOCS = True
    for text in train_texts:
        trainer.train(text, finalize=False)
    trainer.finalize_training()
    return PunktSentenceTokenizer(trainer.get_params())


def corpus_texts() -> list:
    texts = []
    bbc = DATA / "bbc"
    if bbc.exists():
        texts += [p.read_text(encoding="utf-8", errors="replace") for p in bbc.rglob("*.txt")]
    reuters = DATA / "reuters21578"
    for path in sorted(reuters.glob("*.sgm")) if reuters.exists() else []:
        raw = path.read_bytes().decode("latin-1")
        texts += [re.sub(r"\s+", " ", body) for body in re.findall(r"<BODY>(.*?)</BODY>", raw,
                                                                      re.S)]
    return texts


def score(name: str, method) -> tuple:
    true_positive = found = relevant = exact = 0
    for sentences in GOLD:
        text = " ".join(sentences)
        got, want = ends(method(text)), gold_ends(sentences)
        true_positive += len(got & want)
        found += len(got)
        relevant += len(want)
        exact += got == want
    return name, true_positive / found, true_positive / relevant, exact / len(GOLD)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-train", action="store_true")
    args = parser.parse_args()
    texts = [] if args.no_train else corpus_texts()
    tokenizer = punkt(texts)
    rows = [score("searchkit rules", sentence_spans),
            score(f"Punkt, trained on {len(texts)} texts" if texts else "Punkt, untrained",
                  lambda text: list(tokenizer.span_tokenize(text)))]
    print(f"{len(GOLD)} paragraphs, {sum(len(g) for g in GOLD)} sentences\n")
    print("| method | precision | recall | paragraphs split exactly |")
    print("|---|---|---|---|")
    for name, precision, recall, exact in rows:
        print(f"| {name} | {precision:.3f} | {recall:.3f} | {exact:.3f} |")


if __name__ == "__main__":
    main()
