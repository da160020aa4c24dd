"""How a survey question reads on any channel: its prompt, its choices, the answer read back."""

from __future__ import annotations

from bot.channels.actions import answer_action
from bot.channels.base import Choice, MessageView
from bot.conversation.wording import lang as _lang
from bot.conversation.wording import say
from bot.survey.engine import DONE, NO, SKIP, YES, Given
from bot.survey.questionnaire import Question
from bot.texts import BUTTONS, LIKERT


def question_text(question: Question, language: str) -> str:
    return question.text_en if _lang(language) == "en" else question.text_vi


def option_label(question: Question, code: str, language: str) -> str:
    option = question.option(code)
    if option is None:
        return code
    return option.text_en if _lang(language) == "en" else option.text_vi


def answer_label(question: Question, answer: Given, language: str) -> str:
    """How an answer reads back to the citizen."""
    lang = _lang(language)
    if answer.skipped:
        return say(lang, "skipped")
    if question.kind == "likert5" and answer.value_int is not None:
        return LIKERT[lang][answer.value_int - 1]
    if question.kind == "yes_no":
        return BUTTONS[lang]["yes" if answer.value_int else "no"]
    if question.kind == "choice" and answer.choices:
        return "; ".join(option_label(question, c, lang) for c in answer.choices)
    return answer.value_text or ""


def prompt(
    question: Question, language: str, *, number: int, total: int, buttons: bool = True
) -> str:
    lang = _lang(language)
    text = say(
        lang,
        "question",
        buttons=buttons,
        number=number,
        total=total,
        text=question_text(question, lang),
    )
    if question.kind == "text":
        text += "\n" + say(lang, "hint_text", buttons=buttons)
    elif question.kind == "choice" and question.max_choices > 1:
        text += "\n" + say(lang, "hint_multi", buttons=buttons, max=question.max_choices)
    return text


def answered_text(
    question: Question, answer: Given, language: str, *, number: int, total: int
) -> str:
    """The question message after it was answered: the question and the answer, no buttons."""
    lang = _lang(language)
    asked = say(lang, "question", number=number, total=total, text=question_text(question, lang))
    return asked + "\n" + say(lang, "answered", choice=answer_label(question, answer, lang))


def question_choices(
    survey_id: int, question: Question, language: str, *, draft: tuple[str, ...] = ()
) -> list[list[Choice]]:
    """The answer options of a question, in order, each carrying its survey-answer action."""
    lang = _lang(language)
    labels = BUTTONS[lang]
    rows: list[list[Choice]] = []

    def choice(text: str, value: str) -> Choice:
        return Choice(text, answer_action(survey_id, question.code, value))

    if question.kind == "likert5":
        rows = [
            [choice(f"{level}. {label}", str(level))]
            for level, label in enumerate(LIKERT[lang], start=1)
        ]
    elif question.kind == "yes_no":
        rows = [[choice(labels["yes"], YES), choice(labels["no"], NO)]]
    elif question.kind == "choice":
        for option in question.options:
            mark = "✅ " if option.code in draft else ""
            rows.append([choice(mark + option_label(question, option.code, lang), option.code)])
        if question.max_choices > 1:
            rows.append([choice(labels["done"], DONE)])
    if not question.required:
        rows.append([choice(labels["skip"], SKIP)])
    return rows


def question_view(
    survey_id: int,
    question: Question,
    language: str,
    *,
    number: int,
    total: int,
    draft: tuple[str, ...] = (),
    intro: str = "",
    buttons: bool = True,
) -> MessageView:
    """A question as one message: the intro (invitation, reminder), the prompt, the options."""
    text = prompt(question, language, number=number, total=total, buttons=buttons)
    if intro:
        text = intro + "\n\n" + text
    return MessageView(text, question_choices(survey_id, question, language, draft=draft))
