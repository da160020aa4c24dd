"""The text catalog: complete in both languages, one fallback rule, sound without buttons."""

from __future__ import annotations

import ast
import re
import string
import unicodedata
from pathlib import Path

import pytest

from bot import texts
from bot.commands import admin_texts, head_texts, questionnaire_texts
from bot.texts import CATALOGS, EN, TYPED, VI, Catalogs, MissingText, chat_text, en, text, vi

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = {VI: vi.CATALOG, EN: en.CATALOG}
BASE_KEYS = [key for key in vi.CATALOG if not key.endswith(TYPED)]

# Words that ask someone to press, tap or click: wrong on a channel without buttons.
PRESSING = re.compile(
    r"(?<!\w)(bấm|nhấn|chạm|nút|press\w*|tap|taps|tapping|click\w*|buttons?)(?!\w)",
    re.IGNORECASE,
)
# Vietnamese words as they read when their diacritics are lost ("thanh tra" needs none).
LOOK_ALIKES = (
    "ho so",
    "ong/ba",
    "vui long",
    "cam on",
    "khao sat",
    "thu tuc",
    "co quan",
    "tiep nhan",
    "xin loi",
    "duoc",
    "nguoi dan",
    "ket qua",
    "hai long",
    "trang thai",
    "dang ky",
    "phieu",
    "cau hoi",
    "quan tri",
    "thu truong",
    "lien ket",
    "bo qua",
    "tra loi",
)
# What is not prose: placeholders, commands and their <arguments>.
_NOT_PROSE = re.compile(r"\{[^{}]*\}|/\w+|<[^<>]*>")
_SENTENCE_END = re.compile(r"[.!?\n:;|()\[\]—–·,“”«»]")
_WORD = re.compile(r"[^\W\d_]{2,}")


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def prose(template: str) -> str:
    return _NOT_PROSE.sub(" ", template)


# -- completeness -------------------------------------------------------------------------------


def test_every_key_exists_in_both_languages() -> None:
    assert vi.CATALOG.keys() == en.CATALOG.keys()
    assert all(value.strip() for catalog in LANGUAGES.values() for value in catalog.values())


def test_placeholders_match_between_the_languages() -> None:
    for key, vietnamese in vi.CATALOG.items():
        assert fields(vietnamese) == fields(en.CATALOG[key]), key


def test_every_template_fills_with_its_own_placeholders() -> None:
    for language, catalog in LANGUAGES.items():
        for key, template in catalog.items():
            filled = template.format(**dict.fromkeys(fields(template), "X"))
            assert "{" not in filled and "}" not in filled, (language, key)


def test_a_typed_variant_belongs_to_a_key_and_keeps_its_placeholders() -> None:
    for key in vi.CATALOG:
        if key.endswith(TYPED):
            base = key.removesuffix(TYPED)
            assert base in vi.CATALOG, key
            assert vi.CATALOG[key] != vi.CATALOG[base], key
            assert fields(vi.CATALOG[key]) == fields(vi.CATALOG[base]), key


# -- channels without buttons -------------------------------------------------------------------


def test_no_text_chosen_without_buttons_asks_to_press_one() -> None:
    for language in LANGUAGES:
        for key in BASE_KEYS:
            chosen = CATALOGS.template(language, key, buttons=False)
            assert not PRESSING.search(chosen), (language, key, chosen)


def test_texts_that_mention_buttons_keep_them_where_buttons_exist() -> None:
    """The check above is not vacuous: these texts do ask to press, and stay as they were."""
    for language in LANGUAGES:
        mentioning = {key for key in BASE_KEYS if PRESSING.search(text(language, key))}
        assert {"chat.welcome", "chat.use_buttons", "chat.hint_text", "chat.empty"} <= mentioning
        assert all(key + TYPED in vi.CATALOG for key in mentioning), language
    assert "bấm nút bên dưới" in chat_text(VI, "welcome")
    assert "bấm nút" not in chat_text(VI, "welcome", buttons=False)
    assert "mã liên kết" in chat_text(VI, "welcome", buttons=False)
    assert chat_text(EN, "hint_multi", max=3, buttons=False) == (
        "(Type the number of each item you choose, up to 3, then type “Done”.)"
    )
    assert admin_texts.admin_text(VI, "refused_press", buttons=False) == (
        "Xin lỗi, bạn không dùng được lựa chọn này."
    )


# -- Vietnamese spelling ------------------------------------------------------------------------


def test_every_text_is_nfc_normalised() -> None:
    for language, catalog in LANGUAGES.items():
        for key, value in catalog.items():
            assert unicodedata.is_normalized("NFC", value), (language, key)
            assert unicodedata.is_normalized("NFC", key), (language, key)


def test_vietnamese_sentences_carry_vietnamese_letters() -> None:
    """A Vietnamese sentence of three words or more with no letter outside ASCII lost its
    diacritics (or was never translated)."""
    for key, value in vi.CATALOG.items():
        for sentence in _SENTENCE_END.split(prose(value)):
            words = _WORD.findall(sentence)
            if len(words) >= 3:
                assert not all(word.isascii() for word in words), (key, sentence)


def test_vietnamese_texts_have_no_words_that_lost_their_diacritics() -> None:
    for key, value in vi.CATALOG.items():
        folded = prose(value).casefold()
        for word in LOOK_ALIKES:
            assert not re.search(rf"(?<!\w){re.escape(word)}(?!\w)", folded), (key, word)


def test_the_spelling_checks_catch_what_they_are_for() -> None:
    assert all(word.isascii() for word in _WORD.findall("Vui long cho mot phut"))
    assert re.search(r"(?<!\w)ho so(?!\w)", prose("Ho so {code} da duoc tiep nhan").casefold())
    assert PRESSING.search("Please press “Skip”") and PRESSING.search("hoặc bấm “Bỏ qua”")


# -- the one lookup and its fallback rule -------------------------------------------------------

TINY = Catalogs(
    {
        VI: {
            "a.both": "vi {n}",
            "a.vi_only": "chỉ tiếng Việt",
            "a.key": "vi",
            "a.key.typed": "vi gõ",
        },
        EN: {"a.both": "en {n}", "a.en_only": "English only", "a.key": "en"},
    }
)


def test_an_unknown_language_reads_vietnamese() -> None:
    assert TINY.text("fr", "a.both", n=1) == "vi 1"
    assert TINY.text(None, "a.both", n=1) == "vi 1"
    assert text("de", "chat.flood") == text(VI, "chat.flood")
    assert chat_text("xx", "stopped") == vi.CATALOG["chat.stopped"]


def test_a_key_missing_in_english_reads_vietnamese() -> None:
    assert TINY.text(EN, "a.vi_only") == "chỉ tiếng Việt"
    assert TINY.text(EN, "a.both", n=2) == "en 2"


def test_a_key_missing_in_vietnamese_is_an_error() -> None:
    with pytest.raises(MissingText):
        TINY.text(EN, "a.en_only")
    with pytest.raises(MissingText):
        text(VI, "chat.no_such_text")
    for lookup in (
        texts.chat_text,
        texts.head_text,
        admin_texts.admin_text,
        head_texts.head_text,
        questionnaire_texts.qtext,
    ):
        with pytest.raises(KeyError):
            lookup(EN, "no_such_text")


def test_buttons_false_picks_the_typed_variant_with_the_same_fallback() -> None:
    assert TINY.text(VI, "a.key", buttons=False) == "vi gõ"
    # English lacks the typed variant: Vietnamese's typed one, never the English button text
    assert TINY.text(EN, "a.key", buttons=False) == "vi gõ"
    assert TINY.text(EN, "a.key") == "en"
    assert TINY.text(EN, "a.both", n=3, buttons=False) == "en 3"


def test_params_are_filled_only_when_given() -> None:
    assert TINY.text(VI, "a.both") == "vi {n}"
    assert chat_text(EN, "linked", code="C-1", procedure="P").startswith("✅ Case C-1 — P")


# -- the views older callers import -------------------------------------------------------------


def test_the_tables_are_views_of_the_catalog() -> None:
    for language in LANGUAGES:
        assert texts.CHAT[language]["welcome"] == text(language, "chat.welcome")
        assert texts.HEAD[language]["ack"] == text(language, "head.ack")
        assert texts.BUTTONS[language]["skip"] == text(language, "button.skip")
        assert texts.CASE_STATUS[language][10] == text(language, "case_status.10")
        assert texts.TIMELINESS[language]["late"] == text(language, "timeliness.late")
        assert texts.CASE_PAGE[language]["title"] == text(language, "case_page.title")
        assert head_texts.TEXTS[language]["sipas_none"] == text(language, "report.sipas_none")
        assert questionnaire_texts.MESSAGES[language]["busy"] == text(language, "editor.busy")
        assert "welcome.typed" not in texts.CHAT[language]
    assert list(texts.CASE_STATUS[VI]) == list(range(1, 11))
    assert texts.LIKERT_VI_LABELS == (
        "Rất không hài lòng",
        "Không hài lòng",
        "Bình thường",
        "Hài lòng",
        "Rất hài lòng",
    )
    assert head_texts.HELP["alerts"] == ("Cảnh báo đang mở", "Open alerts")
    assert head_texts.factor_name(EN, 3) == "Civil servants"
    assert questionnaire_texts.kind_name(VI, "yes_no") == "Có/Không"
    assert questionnaire_texts.kind_name(VI, "stored_but_unnamed") == "stored_but_unnamed"
    assert questionnaire_texts.field_list("xx") == questionnaire_texts.field_list(VI)
    assert questionnaire_texts.field_list(EN).splitlines()[0] == "vi — Vietnamese text"


def test_there_is_one_head_text_and_one_lookup() -> None:
    sources = [p for p in (ROOT / "bot").rglob("*.py") if ".venv" not in p.parts]
    defined = [p for p in sources if re.search(r"^def head_text\b", p.read_text(), re.M)]
    assert [p.relative_to(ROOT).as_posix() for p in defined] == ["bot/texts/__init__.py"]
    assert head_texts.head_text is head_texts.report_text
    text_modules = [
        *(ROOT / "bot" / "texts").glob("*.py"),
        *(ROOT / "bot/commands").glob("*_texts.py"),
    ]
    lookups = [p for p in text_modules if ".format(**params)" in p.read_text()]
    assert [p.relative_to(ROOT).as_posix() for p in lookups] == ["bot/texts/catalog.py"]


# -- every literal key a caller asks for exists -------------------------------------------------

# Where each lookup function comes from, and the namespace it reads.
_NAMESPACES = {
    ("bot.texts", "text"): "",
    ("bot.texts", "chat_text"): "chat.",
    ("bot.texts", "head_text"): "head.",
    ("bot.texts.catalog", "text"): "",
    ("bot.commands.admin_texts", "admin_text"): "admin.",
    ("bot.commands.head_texts", "head_text"): "report.",
    ("bot.commands.head_texts", "report_text"): "report.",
    ("bot.commands.questionnaire_texts", "qtext"): "editor.",
}


def _asked_keys(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    lookups: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                namespace = _NAMESPACES.get((node.module, alias.name))
                if namespace is not None:
                    lookups[alias.asname or alias.name] = namespace
    asked = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in lookups
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            asked.add(lookups[node.func.id] + node.args[1].value)
    return asked


def test_every_key_a_caller_names_exists() -> None:
    paths = [*(ROOT / "bot").rglob("*.py"), *(ROOT / "tests").rglob("*.py")]
    paths.remove(Path(__file__).resolve())  # this file asks for missing keys on purpose
    asked = {key: path for path in paths for key in _asked_keys(path)}
    assert len(asked) > 100  # the scan found the callers
    missing = {key: path.relative_to(ROOT).as_posix() for key, path in asked.items()}
    missing = {key: where for key, where in missing.items() if key not in vi.CATALOG}
    assert not missing
