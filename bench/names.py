"""Name variants: precision and recall of the spellings searchkit also searches for a name.

    python bench/names.py [--no-bbc]

The evaluation set (below) is built, not collected: names written in Cyrillic are romanised
by the systems news text meets them in, so that every spelling of a name is known for sure:
- Russian: BGN/PCGN, Library of Congress (without its diacritics and ligatures), the English
  press's simplified BGN (Dmitry, Maxim), German (Duden) and French transcriptions;
- Ukrainian: the national system of 2010 (the passport's), BGN/PCGN, German;
- Belarusian names in their Belarusian form (the passport's romanisation: Tsikhanouskaya) and
  their Russian form romanised as the English press does (Tikhanovskaya);
- Arabic and Chinese names: sets of spellings in use in English-language news (Gaddafi,
  Qaddafi, Kadhafi; Pinyin against Wade-Giles: Beijing, Peking), written out by hand.
The Cyrillic names are the commonest Russian and Ukrainian surnames and first names and names
of people in the news of the corpora's years (public lists of common surnames; heads of state
and government). Only one-word names are used: variants are found word by word.

Groups that share a spelling are one name (the Russian and Belarusian Svetlana). Each spelling
is typed as a query; the truth is the name's other spellings; a spelling of
another name, or a name of the distractor pool, found instead is a false positive. The pool:
every spelling of the set and, unless --no-bbc, every name (capitalised word) of the BBC
corpus in ../shared/data/bbc. Two methods in the same run: searchkit's (``translit`` keys and
vowel-only edits, ``plan.name_variants`` without the frequency bounds a real corpus adds), and
the edit-distance rule it replaced (within one edit, two for names of 8+ letters, the same
first letter). Micro-averaged precision and recall, per language and overall.
"""

import argparse
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
BBC = REPO.parent / "shared" / "data" / "bbc"

from searchkit.index.vocabulary import Vocabulary, count, folded  # noqa: E402
from searchkit.retrieval import translit  # noqa: E402

RUSSIAN = """Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков Фёдоров Морозов
Волков Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов Николаев Орлов Андреев Макаров
Никитин Захаров Зайцев Соловьёв Борисов Яковлев Григорьев Романов Воробьёв Сергеев Кузьмин
Фролов Александров Дмитриев Королёв Гусев Киселёв Ильин Максимов Поляков Сорокин Виноградов
Ковалёв Белов Медведев Антонов Тарасов Жуков Баранов Филиппов Комаров Давыдов Беляев Герасимов
Богданов Осипов Сидоров Матвеев Титов Марков Миронов Крылов Куликов Карпов Власов Мельников
Денисов Гаврилов Тихонов Казаков Афанасьев Данилов Савельев Тимофеев Фомин Чернов Абрамов
Мартынов Ефимов Федотов Щербаков Назаров Калинин Исаев Чернышёв Быков Маслов Родионов Коновалов
Лазарев Воронин Климов Филатов Пономарёв Голубев Кудрявцев Прохоров Наумов Потапов Журавлёв
Овчинников Трофимов Леонов Соболев Ермаков Колесников Гончаров Емельянов Никифоров Грачёв Котов
Гришин Ефремов Архипов Громов Кириллов Малышев Панов Моисеев Румянцев Акимов Кондратьев
Бирюков Горбунов Анисимов Ерёмин Тихомиров Галкин Лукьянов Михеев Скворцов Юдин Белоусов
Нестеров Симонов Прокофьев Харитонов Князев Цветков Левин Митрофанов Воронов Аксёнов Софронов
Мальцев Логинов Горшков Савин Краснов Майоров Демидов Елисеев Рыбаков Сафонов Плотников Дёмин
Хохлов Жданов Путин Ельцин Горбачёв Хрущёв Брежнев Навальный Шойгу Лавров Песков Мишустин
Ходорковский Березовский Абрамович Дерипаска Чайковский Достоевский Солженицын Жириновский
Зюганов Явлинский Немцов Чубайс Касьянов Примаков Черномырдин Кириенко Собянин Набиуллина
Александр Сергей Дмитрий Андрей Алексей Максим Евгений Иван Михаил Николай Владимир Юрий
Анатолий Виктор Геннадий Григорий Константин Леонид Валерий Василий Вячеслав Аркадий Фёдор
Ксения Наталья Татьяна Екатерина Юлия Ольга Елена Светлана Людмила Анастасия Мария Евгения"""

UKRAINIAN = """Мельник Шевченко Бойко Коваленко Бондаренко Ткаченко Ковальчук Кравченко Олійник
Шевчук Поліщук Бондар Ткачук Марченко Лисенко Руденко Савченко Петренко Клименко Павленко
Кравчук Кузьменко Пономаренко Зеленський Порошенко Ющенко Янукович Тимошенко Кличко Кучма
Яценюк Гройсман Кулеба Резніков Залужний Буданов Шмигаль Єрмак Подоляк Арестович Аваков
Володимир Олександр Олексій Юлія Віталій Андрій Дмитро Сергій Михайло Петро Богдан Василь"""

# (Belarusian form, Russian form) of names in the news of Belarus.
BELARUSIAN = [("Ціханоўская", "Тихановская"), ("Ціханоўскі", "Тихановский"),
              ("Лукашэнка", "Лукашенко"), ("Калеснікава", "Колесникова"),
              ("Бабарыка", "Бабарико"), ("Цапкала", "Цепкало"), ("Латушка", "Латушко"),
              ("Святлана", "Светлана"), ("Аляксандр", "Александр"), ("Віктар", "Виктор"),
              ("Марыя", "Мария"), ("Павел", "Павел"), ("Мікалай", "Николай"),
              ("Статкевіч", "Статкевич"), ("Протасевіч", "Протасевич"), ("Макей", "Макей"),
              ("Алесь", "Алесь"), ("Бялацкі", "Беляцкий"), ("Мінск", "Минск"),
              ("Гомель", "Гомель"), ("Гродна", "Гродно"), ("Магілёў", "Могилёв")]

ARABIC = """Muhammad Mohammed Mohamed Mohammad Muhammed | Gaddafi Qaddafi Kadhafi Gadhafi Qadhafi
Kaddafi | Hussein Husayn Hussain Husain | Osama Usama | Yousef Youssef Yusuf Yousuf Yusef |
Abdullah Abdallah Abdulla | Ahmed Ahmad | Mahmoud Mahmud | Khaled Khalid | Omar Umar |
Hassan Hasan | Nasrallah Nasrullah | Mustafa Mostafa Moustafa | Suleiman Sulaiman Sulayman
Soleiman | Sharif Shareef Sherif | Rahman Rehman | Qatar Katar | Qaeda Qaida | Abdel Abdul |
Hezbollah Hizbollah Hizballah | Hamad Hamed | Mubarak Moubarak | Assad Asad | Zawahiri
Zawahri | Nasser Naser Nasir | Faisal Faysal Feisal | Saud Sa'ud | Jihad Jehad"""

CHINESE = """Beijing Peking | Qingdao Tsingtao | Chongqing Chungking | Guangzhou Kwangchow |
Xinjiang Sinkiang | Nanjing Nanking | Tianjin Tientsin | Zhou Chou | Deng Teng | Jiang Chiang
| Zedong Tsetung | Xiaoping Hsiaoping | Enlai Enlai | Jintao Chintao | Taipei Taibei |
Guomindang Kuomintang | Sichuan Szechwan | Xiamen Hsiamen"""

_VOWELS = "аеёиоуыэюяіїєў"


def _romanise(word: str, table: dict, iotated: dict, endings: dict = None,
              between_vowels: dict = None) -> str:
    """``word`` (Cyrillic) by ``table``; ``iotated``: letters written otherwise at the start
    of a word, after a vowel or a soft or hard sign; ``endings``: endings replaced first."""
    lower = word.lower()
    tail = ""
    for ending, written in (endings or {}).items():
        if lower.endswith(ending):
            lower, tail = lower[:-len(ending)], written
            break
    out = []
    for i, char in enumerate(lower):
        before = lower[i - 1] if i else ""
        after = lower[i + 1] if i + 1 < len(lower) else ""
        if char in iotated and (not before or before in _VOWELS + "ьъ'"):
            out.append(iotated[char])
        elif between_vowels and char in between_vowels and before and before in _VOWELS and \
                after and after in _VOWELS:
            out.append(between_vowels[char])
        else:
            out.append(table.get(char, char))
    return ("".join(out) + tail).capitalize()


_BASE = dict(zip("абвгдзклмнопрстуф", "abvgdzklmnoprstuf"))
RU_SYSTEMS = {
    "BGN/PCGN": ({**_BASE, "е": "e", "ё": "yo", "ж": "zh", "и": "i", "й": "y", "х": "kh",
                  "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "",
                  "э": "e", "ю": "yu", "я": "ya"}, {"е": "ye", "ё": "yo"}, None, None),
    "LC": ({**_BASE, "е": "e", "ё": "e", "ж": "zh", "и": "i", "й": "i", "х": "kh", "ц": "ts",
            "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "iu",
            "я": "ia"}, {}, None, None),
    "press": ({**_BASE, "е": "e", "ё": "yo", "ж": "zh", "и": "i", "й": "y", "х": "kh",
               "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "",
               "э": "e", "ю": "yu", "я": "ya", "кс": "x"}, {"е": "ye"},
              {"ий": "y", "ый": "y", "ия": "ia"}, None),
    "German": ({**_BASE, "в": "w", "е": "e", "ё": "jo", "ж": "sch", "з": "s", "и": "i",
                "й": "j", "х": "ch", "ц": "z", "ч": "tsch", "ш": "sch", "щ": "schtsch",
                "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "ju", "я": "ja"},
               {"е": "je", "ё": "jo"}, {"ий": "i", "ый": "y", "ов": "ow", "ев": "ew"},
               {"с": "ss"}),
    "French": ({**_BASE, "е": "e", "ё": "io", "ж": "j", "и": "i", "й": "i", "у": "ou",
                "х": "kh", "ц": "ts", "ч": "tch", "ш": "ch", "щ": "chtch", "ъ": "", "ы": "y",
                "ь": "", "э": "e", "ю": "iou", "я": "ia"}, {"е": "ie"},
               {"ий": "i", "ый": "y"}, {"с": "ss"}),
}
_UK_BASE = {**_BASE, "г": "h", "ґ": "g", "и": "y", "і": "i", "х": "kh", "ц": "ts", "ч": "ch",
            "ш": "sh", "щ": "shch", "ь": "", "'": "", "е": "e", "ж": "zh"}
UK_SYSTEMS = {
    "national 2010": ({**_UK_BASE, "є": "ie", "ї": "i", "й": "i", "ю": "iu", "я": "ia"},
                      {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}, None, None),
    "BGN/PCGN": ({**_UK_BASE, "є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}, {},
                 {"ий": "yy"}, None),
    "German": ({**_UK_BASE, "в": "w", "ж": "sch", "з": "s", "х": "ch", "ц": "z", "ч": "tsch",
                "ш": "sch", "щ": "schtsch", "є": "je", "ї": "ji", "й": "j", "ю": "ju",
                "я": "ja"}, {}, {"ий": "yj"}, None),
}
BY_PASSPORT = ({**_UK_BASE, "е": "e", "ё": "io", "ы": "y", "ў": "u", "э": "e", "ю": "iu",
                "я": "ia", "й": "i"}, {"е": "ye", "ё": "yo", "ю": "yu", "я": "ya", "й": "y"},
               None, None)


def evaluation_set() -> dict:
    """Language -> list of sets of spellings (each set: one name)."""
    def spellings(word, systems):
        return {_romanise(word, *system) for system in systems}

    sets = {"Russian": [spellings(w, RU_SYSTEMS.values()) for w in RUSSIAN.split()],
            "Ukrainian": [spellings(w, UK_SYSTEMS.values()) for w in UKRAINIAN.split()],
            "Belarusian": [{_romanise(by, *BY_PASSPORT), _romanise(ru, *RU_SYSTEMS["press"])}
                           for by, ru in BELARUSIAN],
            "Arabic": [set(group.split()) for group in ARABIC.split("|")],
            "Chinese": [set(group.split()) for group in CHINESE.split("|")]}
    merged = []  # (language, spellings): groups sharing a spelling are one name (Svetlana)
    for language, groups in sets.items():
        for names in groups:
            names = {folded(s) for s in names if re.fullmatch(r"[A-Za-z]+", s)}
            for other in [m for m in merged if m[1] & names]:
                merged.remove(other)
                names |= other[1]
                language = other[0]
            merged.append((language, names))
    return {language: [names for lang, names in merged if lang == language] for language in sets}


def edit_distance_variants(name: str, vocabulary: Vocabulary) -> set:
    """The rule searchkit had: names within one edit (two for 8+ letters), same first letter."""
    return set(vocabulary.close_to(name, 1 if len(name) < 8 else 2, names=True))


def translit_variants(name: str, vocabulary: Vocabulary) -> set:
    same, close = translit.spellings(name, vocabulary, 1 if len(name) < 8 else 2)
    return set(same) | set(close)


def score(method, sets: dict, vocabulary: Vocabulary) -> dict:
    """Language -> (true positives, predicted, relevant), summed over every spelling typed."""
    totals = {}
    for language, groups in sets.items():
        tp = predicted = relevant = 0
        for group in groups:
            for name in group:
                found = method(name, vocabulary) - {name}
                truth = group - {name}
                tp += len(found & truth)
                predicted += len(found)
                relevant += len(truth)
        totals[language] = (tp, predicted, relevant)
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-bbc", action="store_true",
                        help="no distractor names from the BBC corpus")
    parser.add_argument("--show", action="store_true", help="print the evaluation set")
    args = parser.parse_args()
    sets = evaluation_set()
    sets = {language: [g for g in groups if len(g) > 1] for language, groups in sets.items()}
    texts = []
    if not args.no_bbc and BBC.exists():
        texts = [p.read_text(encoding="utf-8", errors="replace") for p in BBC.rglob("*.txt")]
    pool = count(texts)
    spellings = {s for groups in sets.values() for g in groups for s in g}
    names = dict(pool.names)
    names.update({s: names.get(s, 0) + 1 for s in spellings})
    vocabulary = Vocabulary(pool.paragraphs, {**pool.words, **names}, names)
    if args.show:
        for language, groups in sets.items():
            print(language, ": ", "; ".join(" ".join(sorted(g)) for g in groups), "\n")
    print(f"{sum(len(g) for gs in sets.values() for g in gs)} spellings of "
          f"{sum(len(gs) for gs in sets.values())} names; pool of {len(names)} names "
          f"({'with' if texts else 'without'} the BBC corpus's)\n")
    results = {"edit distance (before)": score(edit_distance_variants, sets, vocabulary),
               "transliteration keys (now)": score(translit_variants, sets, vocabulary)}
    print("| method | language | names | precision | recall |")
    print("|---|---|---|---|---|")
    for method, totals in results.items():
        rows = list(totals.items()) + [("all", tuple(map(sum, zip(*totals.values()))))]
        for language, (tp, predicted, relevant) in rows:
            groups = len(sets.get(language, [])) or sum(len(g) for g in sets.values())
            precision = tp / predicted if predicted else float("nan")
            print(f"| {method} | {language} | {groups} | {precision:.3f} | "
                  f"{tp / relevant:.3f} |")


if __name__ == "__main__":
    main()
