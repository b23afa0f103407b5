"""Words analysed without Whoosh give exactly the terms Whoosh's analyzer gives."""

import random
import string
import subprocess
import sys

from whoosh.analysis import STOP_WORDS, RegexTokenizer
from whoosh.support.charset import accent_map

from conftest import SEEDS, committed

from searchkit.index import analysis, wordterms
from searchkit.index.schema import make_schema

ODD = [
    "Lukashenko’s “dialogue” with the opposition, U.S.-led forces and the E.U.",
    "Café ÉLAN naïve façade Zürich Łódź Ørsted Œuvre straße İstanbul K-pop",
    "3.5% of $1,000,000 on 2020-08-18 at 10:30; x_y a*b *star* ** a.b.c ..dots.. end.",
    "Tikhanovskaya Tsikhanouskaya Тихановская 北京 日本語 العربية",
    "the and of it is to be or not to be: THAT is the question",
    "   leading spaces\ttabs\nnewlines\r\n and  double  spaces  ",
    "", "a", "I", "ha-ha ha", "dying lying tying skies skis news",
    "AT&T's C++ and C# after 9/11, 24/7 on 12/05/2020; A+ Q&A R&D b&&c CD4+ T £5m e-mail",
]


def test_tables_are_whooshs():
    assert wordterms.ACCENT_MAP == dict(accent_map)
    assert wordterms.STOP_WORDS == frozenset(STOP_WORDS)


def test_tokens_are_whooshs_tokenizers():
    tokenizer = analysis.text_analyzer().items[0]
    assert type(tokenizer) is RegexTokenizer
    rng = random.Random(0)
    alphabet = string.ascii_letters + string.digits + " .,*_-'’éÉß北\t\n&/+#"
    texts = ODD + ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
                   for _ in range(2000)]
    for text in texts:
        expected = [(t.text, t.startchar, t.endchar) for t in tokenizer(text, chars=True)]
        assert [(m.group(), m.start(), m.end()) for m in wordterms.TOKEN.finditer(text)] == \
            expected, text


def test_words_split_without_the_special_cases_are_the_tokens():
    """split_words tries TOKEN's special cases (9/11, C++, C#) only where a "/", "+" or
    "#" is: the same tokens, on texts with and without them."""
    rng = random.Random(2)
    plain = string.ascii_letters + string.digits + " .,*_-'’éÉß北\t\n&;"
    texts = ODD + [
        "".join(rng.choice(plain + special) for _ in range(rng.randint(0, 60)))
        for special in ("", "/", "+", "#", "/+#") for _ in range(1000)
    ] + [p.read_text(encoding="utf-8") for p in sorted(SEEDS.rglob("*.txt"))]
    assert any("/" not in t and "+" not in t and "#" not in t and wordterms.TOKEN.findall(t)
               for t in texts)
    for text in texts:
        assert wordterms.split_words(text) == wordterms.TOKEN.findall(text), text
    field = make_schema()["text"]
    assert field.word_splitter() is wordterms.split_words  # the bulk writer's split


def test_query_terms_are_the_analyzers(seed_index):
    wordterms.use_stems("seeds", committed(seed_index, "stems").decode("utf-8"))
    analyzer = analysis.text_analyzer()
    rng = random.Random(1)
    words = sorted(analysis.parse_stems(committed(seed_index, "stems").decode("utf-8")))
    texts = ODD + [" ".join(rng.sample(words, 6)) for _ in range(300)]
    for text in texts:
        expected = [t.text for t in analyzer(text, mode="query")]
        assert wordterms.terms(text) == expected, text


def test_highlighted_tokens_are_those_whooshs_highlighter_matches(seed_index):
    """Every token whose text (stopped: folded; kept: stemmed) is one of the terms, found
    by the first-letter shortcut exactly as by analysing every token."""
    wordterms.use_stems("seeds", committed(seed_index, "stems").decode("utf-8"))
    analyzer = analysis.text_analyzer()
    rng = random.Random(2)
    alphabet = string.ascii_letters + " .*_'’éÉßİK&/+#19" + "  "
    texts = ODD + ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60)))
                   for _ in range(1500)]
    for text in texts:
        tokens = [(t.startchar, t.endchar, t.text)
                  for t in analyzer(text, chars=True, mode="query", removestops=False)]
        for terms in (frozenset(t for *_, t in tokens[::2]), frozenset({"the", "will", "e"})):
            expected = [token for token in tokens if token[2] in terms]
            assert wordterms.highlight_tokens(text, terms) == expected, (text, terms)


def test_a_stem_keeps_its_words_first_letter(seed_index):
    """What the highlighter's shortcut rests on (Snowball changes endings only)."""
    words = set(analysis.parse_stems(committed(seed_index, "stems").decode("utf-8")))
    words |= {"".join(p) for p in zip(string.ascii_lowercase, "yyyyyyyyyyyyyyyyyyyyyyyyyy")}
    words |= {"dying", "lying", "tying", "skies", "yelling", "ying", "oed", "idly", "ugly"}
    for word in words:
        assert wordterms.stem(word)[:1] == word[:1], word


def test_nltk_is_imported_without_scipy_and_scipy_still_imports_after():
    """The stemmer's import hides SciPy from NLTK only while NLTK is imported; its stems are
    NLTK's Snowball stems."""
    code = (
        "import importlib.util, sys\n"
        "from searchkit.index import wordterms\n"
        "stems = [wordterms._nltk_stem(w) for w in ('protesters', 'generously', 'running')]\n"
        "assert 'scipy' not in sys.modules, 'NLTK imported SciPy'\n"
        "if importlib.util.find_spec('scipy') is not None:\n"
        "    import scipy.stats  # noqa: F401  (still importable afterwards)\n"
        "print(' '.join(stems))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    from nltk.stem.snowball import EnglishStemmer

    expected = [EnglishStemmer().stem(w) for w in ("protesters", "generously", "running")]
    assert done.stdout.split() == expected == ["protest", "generous", "run"]
