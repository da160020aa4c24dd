"""Typed survey answers read generously: what a citizen's reply means for one question.

Chats without buttons (the Zalo Bot) and citizens who type anyway send replies such as "4",
"4 điểm", "4/5", "hai long", "RHL", "hai lofng" (Telex left over), "lo2ng" (VNI), "👍 hài lòng",
"ko", "1 và 3". `read_answer` turns one reply into a `Reading`: a five-level value, yes or no,
the option codes picked, a skip, or `AskAgain` with a reason. It never guesses: a reply that
could mean two things ("4 5", "có không", "hài lòng không", "5 không hài lòng") or a number
outside the options is asked again, because a wrong answer is worse than a second question.

Pure: no channel, no storage, no I/O. Words are compared folded (`bot.vietnamese.fold`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TypeAlias

from bot.survey.questionnaire import Question
from bot.vietnamese import fold

MAX_NUMBERS = 20  # numbers one reply may list; more is noise, not an answer
STAR = "\u2b50"


@dataclass(frozen=True, slots=True)
class Level:
    """A five-level answer, 1 (very dissatisfied) to 5 (very satisfied)."""

    value: int


@dataclass(frozen=True, slots=True)
class YesNo:
    yes: bool


@dataclass(frozen=True, slots=True)
class Picked:
    """The option codes picked, in the order typed, without repeats."""

    codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Skipped:
    """The citizen chose not to answer an optional question."""


@dataclass(frozen=True, slots=True)
class AskAgain:
    """No safe reading. `reason`: unclear, ambiguous, out_of_range, too_many or required."""

    reason: str


Reading: TypeAlias = Level | YesNo | Picked | Skipped | AskAgain

# Every word a reading is built from; a typed word is repaired only into one of these.
_VOCABULARY = frozenset(
    {
        "rat", "khong", "hai", "long", "lam", "binh", "thuong", "chua", "diem", "sao", "muc",
        "co", "yes", "no", "vang", "dung", "bo", "qua", "skip", "va", "and", "lan", "roi",
        "chon", "toi", "minh", "thay", "cam", "bao", "gio", "very", "satisfied",
        "dissatisfied", "unsatisfied", "not", "neutral", "okay", "nhe", "nha", "chu",
    }
)  # fmt: skip
# Short forms and dialect spellings, rewritten before anything is read.
_SHORT_FORMS = {
    "k": ("khong",),
    "ko": ("khong",),
    "kg": ("khong",),
    "kh": ("khong",),
    "khg": ("khong",),
    "hong": ("khong",),
    "hok": ("khong",),
    "hem": ("khong",),
    "hl": ("hai", "long"),
    "rhl": ("rat", "hai", "long"),
    "khl": ("khong", "hai", "long"),
    "rkhl": ("rat", "khong", "hai", "long"),
    "bt": ("binh", "thuong"),
    "bth": ("binh", "thuong"),
}
_UNITS = frozenset({"diem", "d", "sao", "muc", "so", "lan"})
# Words that carry no answer: politeness, "I", "point(s)", "choose", "number".
_COMMON_FILLERS = frozenset({"a", "da", "nhe", "nha", "oi", "toi", "minh", "em", "la"})
_LIKERT_FILLERS = _COMMON_FILLERS | {"diem", "d", "sao", "muc", "chon", "so", "thay", "cam"}
_YES_NO_FILLERS = _COMMON_FILLERS | {"roi", "chu", "bi", "thi"}
_CHOICE_FILLERS = _COMMON_FILLERS | {"so", "chon", "muc", "y", "cau", "phuong", "an"}
_CHOICE_JOINERS = frozenset({"va", "and", "voi", "cung"})

_LIKERT_LABELS = {
    ("rat", "khong", "hai", "long"): 1,
    ("very", "dissatisfied"): 1,
    ("very", "unsatisfied"): 1,
    ("khong", "hai", "long"): 2,
    ("chua", "hai", "long"): 2,
    ("dissatisfied",): 2,
    ("unsatisfied",): 2,
    ("not", "satisfied"): 2,
    ("binh", "thuong"): 3,
    ("neutral",): 3,
    ("hai", "long"): 4,
    ("satisfied",): 4,
    ("rat", "hai", "long"): 5,
    ("hai", "long", "lam"): 5,
    ("very", "satisfied"): 5,
}
_YES_WORDS = frozenset(
    {"co", "c", "yes", "y", "u", "uh", "um", "uhm", "ok", "oke", "okay", "okie", "vang",
     "dung", "yep", "yeah"}
)  # fmt: skip
_NO_WORDS = frozenset({"khong", "no", "n", "nope", "chua"})
_NO_PHRASES = frozenset({("khong", "co"), ("chua", "bao", "gio"), ("khong", "bao", "gio")})
_SKIP_PHRASES = frozenset({("bo", "qua"), ("skip",)})

_OUT_OF_FIVE = re.compile(r"(?<![\d.,])(\d+)\s*/\s*5(?![\d.,])")
_RANGE = re.compile(r"\d\s*[-–~]\s*\d")
_TOKEN = re.compile(r"[a-z0-9]+")
_UNIT_AFTER = re.compile(r"^(\d+)([a-z]+)$")
_UNIT_BEFORE = re.compile(r"^([a-z]+)(\d+)$")
_TELEX_VOWELS: tuple[tuple[str, str], ...] = (
    ("dd", "d"), ("aa", "a"), ("ee", "e"), ("oo", "o"), ("aw", "a"), ("ow", "o"), ("uw", "u"),
)  # fmt: skip
_TELEX_TONES = re.compile(r"[sfrxj]")


def read_answer(question: Question, text: str) -> Reading:
    """What `text` answers to `question` (likert5, yes_no or choice)."""
    if is_skip(text):
        return Skipped() if not question.required else AskAgain("required")
    if question.kind == "likert5":
        return _read_likert(text)
    if question.kind == "yes_no":
        return _read_yes_no(text)
    if question.kind == "choice":
        return _read_choice(question, text)
    return AskAgain("unclear")


def is_skip(text: str) -> bool:
    """Whether the reply asks to skip the question ("bỏ qua", "Skip", "-")."""
    words = tuple(w for w in _words(_plain(text)) if w not in _COMMON_FILLERS)
    return text.strip() == "-" or words in _SKIP_PHRASES


def _read_likert(text: str) -> Reading:
    stripped = fold(text).replace(" ", "")  # fold drops the emoji variation selector
    if stripped and set(stripped) == {STAR}:  # "⭐⭐⭐⭐" is four stars
        count = len(stripped)
        return Level(count) if 1 <= count <= 5 else AskAgain("out_of_range")
    plain = _plain(text)
    if plain is None:
        return AskAgain("unclear")
    if _RANGE.search(plain):
        return AskAgain("ambiguous")
    out_of_five = _OUT_OF_FIVE.findall(plain)
    plain = _OUT_OF_FIVE.sub(r" \1 ", plain)
    if "/" in plain or len(out_of_five) > 1:
        return AskAgain("ambiguous")
    words = _squeeze([w for w in _words(plain) if w not in _LIKERT_FILLERS], "rat")
    numbers = [int(w) for w in words if w.isdigit()]
    label = tuple(w for w in words if not w.isdigit())
    if len(numbers) > 1:
        return AskAgain("ambiguous")
    level = _LIKERT_LABELS.get(label) if label else None
    if label and level is None:
        return AskAgain("ambiguous" if "khong" in label or "not" in label else "unclear")
    if not numbers:
        return Level(level) if level is not None else AskAgain("unclear")
    number = numbers[0]
    if not 1 <= number <= 5:
        return AskAgain("out_of_range")
    if level is not None and level != number:
        return AskAgain("ambiguous")
    return Level(number)


def _read_yes_no(text: str) -> Reading:
    plain = _plain(text)
    if plain is None:
        return AskAgain("unclear")
    words = tuple(w for w in _words(plain) if w not in _YES_NO_FILLERS)
    if not words:
        return AskAgain("unclear")
    if words in _NO_PHRASES:
        return YesNo(yes=False)
    if all(w.isdigit() for w in words):
        # the options are shown numbered "1. Có", "2. Không" where there are no buttons
        if len(words) > 1:
            return AskAgain("ambiguous")
        number = int(words[0])
        return YesNo(yes=number == 1) if number in (1, 2) else AskAgain("out_of_range")
    yes = any(w in _YES_WORDS for w in words)
    no = any(w in _NO_WORDS for w in words)
    if yes and no:
        return AskAgain("ambiguous")
    if not all(w in _YES_WORDS or w in _NO_WORDS for w in words):
        return AskAgain("unclear")
    return YesNo(yes=yes)


def _read_choice(question: Question, text: str) -> Reading:
    plain = _plain(text)
    if plain is None:
        return AskAgain("unclear")
    typed = " ".join(_words(plain))
    for option in question.options:
        labels = {
            " ".join(_words(_plain(label) or "")) for label in (option.text_vi, option.text_en)
        }
        if typed in labels:
            return Picked((option.code,))
    if _RANGE.search(plain):
        return AskAgain("ambiguous")
    words = [w for w in _words(plain) if w not in _CHOICE_FILLERS and w not in _CHOICE_JOINERS]
    if not words or not all(w.isdigit() and len(w) <= 6 for w in words):
        return AskAgain("unclear")
    if len(words) > MAX_NUMBERS:
        return AskAgain("too_many")
    numbers = [int(w) for w in words]
    if any(not 1 <= n <= len(question.options) for n in numbers):
        return AskAgain("out_of_range")
    codes = tuple(dict.fromkeys(question.options[n - 1].code for n in numbers))
    if len(codes) > question.max_choices:
        return AskAgain("too_many")
    return Picked(codes)


def _plain(text: str) -> str | None:
    """The reply folded, with emoji and punctuation as spaces ("/" and "-" kept, since
    "4/5" and "1-3" mean something); None when it holds digits that are not ASCII ("²", "①"),
    which no one types as a number by accident."""
    kept: list[str] = []
    for char in fold(text):
        if char.isascii() and (char.isalnum() or char in "/-~"):
            kept.append(char)
        elif unicodedata.category(char).startswith("N"):
            return None
        elif char.isalpha():
            kept.append(char)  # a letter of another script stays, and makes the reply unclear
        else:
            kept.append(" ")
    return "".join(kept)


def _words(plain: str | None) -> tuple[str, ...]:
    """The reply's words, repaired (Telex/VNI leftovers, one typo) and short forms spelled out."""
    if plain is None:
        return ()
    words: list[str] = []
    for raw in plain.replace("/", " ").replace("-", " ").replace("~", " ").split():
        if not _TOKEN.fullmatch(raw):
            words.append(raw)
            continue
        for word in _split_unit(raw):
            word = _repaired(word)
            words.extend(_SHORT_FORMS.get(word, (word,)))
    return tuple(words)


def _split_unit(word: str) -> tuple[str, ...]:
    """ "4diem" → ("4", "diem"), "diem4" → ("diem", "4"); other words unchanged."""
    if (found := _UNIT_AFTER.match(word)) and found.group(2) in _UNITS:
        return found.group(1), found.group(2)
    if (found := _UNIT_BEFORE.match(word)) and found.group(1) in _UNITS:
        return found.group(1), found.group(2)
    return (word,)


def _repaired(word: str) -> str:
    """The vocabulary word `word` was meant to be, when exactly one fits; else `word`."""
    if word in _VOCABULARY or word in _SHORT_FORMS or word.isdigit() or len(word) < 2:
        return word
    if word[0].isalpha() and any(c.isdigit() for c in word):  # VNI: "lo2ng", "kho6ng"
        vni = "".join(c for c in word if not c.isdigit())
        return vni if vni in _VOCABULARY else word
    telex = word
    for typed, meant in _TELEX_VOWELS:
        telex = telex.replace(typed, meant)
    telex = telex[0] + _TELEX_TONES.sub("", telex[1:])
    if telex in _VOCABULARY:
        return telex
    if len(word) < 3:
        return word
    near = [v for v in _VOCABULARY if len(v) >= 3 and _one_edit(word, v)]
    return near[0] if len(near) == 1 else word


def _one_edit(a: str, b: str) -> bool:
    """Whether `a` becomes `b` by one insertion, deletion, substitution or swap of neighbours."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        i = diff[0]
        return len(diff) == 2 and diff[1] == i + 1 and a[i] == b[i + 1] and a[i + 1] == b[i]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def _squeeze(words: list[str], repeated: str) -> list[str]:
    """Words with runs of `repeated` made one ("rất rất hài lòng" is still "rất hài lòng")."""
    return [w for i, w in enumerate(words) if not (w == repeated and i and words[i - 1] == w)]


__all__ = [
    "AskAgain",
    "Level",
    "Picked",
    "Reading",
    "Skipped",
    "YesNo",
    "is_skip",
    "read_answer",
]
