"""`sipas import-responses FILE.csv`: historical paper, kiosk or portal answers (interfaces.md).

The file is checked in full before anything is stored; one bad row rejects the whole file and
every problem is reported with its physical line number (the header is line 1). The checks are
plain functions of the parsed rows and a few lookups (`validate`); `import_file` reads those
lookups from the database and writes the accepted answers in one transaction.

Rules:
- the header is exactly ``MaHoSo,MaCoQuan,question_code,value,answered_at`` (UTF-8, a BOM is
  tolerated); blank lines are ignored;
- the case must exist and ``MaCoQuan`` must be its agency;
- ``question_code`` is a code of the active questionnaire or of the built-in full SIPAS form
  (1.1–5.3); a five-level question takes 1–5, a yes/no question 0 (no) or 1 (yes); choice and
  free-text questions cannot be imported;
- ``answered_at`` is ISO 8601; with an offset it is converted to local time, without one it is
  taken as local time already (a date alone means local midnight); it lies between
  2000-01-01 and the next day (a year 1 or 9999 answer is a typing error, and converting
  such a time to UTC or local time overflows);
- a (``MaHoSo``, ``question_code``) pair may appear once in the file and must not be stored yet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.survey.questionnaire import Question, Questionnaire, builtin
from storage import imports
from storage.imports import CaseRef, NewAnswer
from storage.questionnaires import QuestionnaireStore

HEADER = ("MaHoSo", "MaCoQuan", "question_code", "value", "answered_at")
LIKERT = "likert5"
EARLIEST_ANSWER = datetime(2000, 1, 1)
YES_NO = "yes_no"


class ImportRejected(Exception):
    """The file cannot be imported; `errors` are lines ``line N: reason``."""

    def __init__(self, errors: Sequence[str]) -> None:
        super().__init__(f"{len(errors)} error(s)")
        self.errors = list(errors)


@dataclass(frozen=True, slots=True)
class Row:
    """A data row of the file and the physical line it starts on."""

    line: int
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Summary:
    answers: int
    cases: int
    surveys_created: int

    def __str__(self) -> str:
        return (
            f"imported {self.answers} answers for {self.cases} cases "
            f"({self.surveys_created} new surveys)"
        )


def parse(data: bytes) -> list[Row]:
    """The data rows of a CSV file; raise `ImportRejected` for an unreadable file or header."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportRejected([f"line {line}: the file is not UTF-8 text"]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[Row] = []
    header: tuple[str, ...] | None = None
    consumed = 0  # physical lines read so far
    try:
        for record in reader:
            line = consumed + 1
            consumed = reader.line_num
            if header is None:
                header = tuple(field.strip() for field in record)
                if header != HEADER:
                    raise ImportRejected(
                        [f"line {line}: the header must be exactly {','.join(HEADER)}"]
                    )
                continue
            if not record or (all(not field.strip() for field in record) and len(record) <= 1):
                continue  # a blank line
            rows.append(Row(line=line, fields=tuple(record)))
    except csv.Error as exc:
        raise ImportRejected([f"line {reader.line_num}: unreadable CSV ({exc})"]) from None
    if header is None:
        raise ImportRejected([f"line 1: the file is empty; expected the header {','.join(HEADER)}"])
    return rows


def importable_questions(active: Questionnaire) -> dict[str, Question]:
    """Codes accepted: the built-in full SIPAS form, then the active form (which wins)."""
    questions = {q.code: q for q in builtin("full").questions}
    questions.update({q.code: q for q in active.questions})
    return questions


def parse_time(value: str, tz: ZoneInfo) -> datetime | None:
    """ISO 8601 → naive local time (an offset is converted to `tz`); None if not ISO 8601."""
    text = value.strip()
    if not text or not text[:4].isdigit():
        return None
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is not None:
            moment = moment.astimezone(tz).replace(tzinfo=None)
    except (ValueError, OverflowError):  # OverflowError: 0001-01-01T00:00:00+14:00 in UTC
        return None
    return moment


def _answer_time(
    raw: str, tz: ZoneInfo, latest: datetime | None
) -> tuple[datetime | None, str | None]:
    moment = parse_time(raw, tz)
    shown = repr(raw.strip())
    if moment is None:
        try:
            datetime.fromisoformat(raw.strip())
        except ValueError:
            return None, f"answered_at {shown} is not an ISO 8601 date and time"
        return None, f"answered_at {shown} is out of range"  # overflows in local time
    if moment < EARLIEST_ANSWER or (latest is not None and moment > latest):
        return None, f"answered_at {shown} is not between {EARLIEST_ANSWER:%Y-%m-%d} and tomorrow"
    return moment, None


def _value(question: Question, raw: str) -> tuple[int | None, str | None]:
    text = raw.strip()
    if question.kind == LIKERT:
        allowed, wanted = range(1, 6), f"1–5 for five-level question {question.code}"
    elif question.kind == YES_NO:
        allowed, wanted = range(2), f"0 (no) or 1 (yes) for yes/no question {question.code}"
    else:
        return None, f"question {question.code} ({question.kind}) cannot be imported"
    if text not in {str(level) for level in allowed}:
        shown = repr(text) if text else "empty"
        return None, f"value {shown} is not {wanted}"
    return int(text), None


def validate(
    rows: Iterable[Row],
    *,
    cases: Mapping[str, CaseRef],
    questions: Mapping[str, Question],
    stored: set[tuple[str, str]],
    tz: ZoneInfo,
    latest: datetime | None = None,
) -> tuple[list[NewAnswer], list[str]]:
    """Check every row; return the answers to store and the errors (``line N: reason``).

    `latest` (naive local time) is the last acceptable `answered_at`.
    """
    answers: list[NewAnswer] = []
    errors: list[str] = []
    first_seen: dict[tuple[str, str], int] = {}
    for row in rows:
        problems: list[str] = []
        if len(row.fields) != len(HEADER):
            errors.append(
                f"line {row.line}: expected {len(HEADER)} columns, found {len(row.fields)}"
            )
            continue
        case_code, agency, code, raw_value, raw_time = (f.strip() for f in row.fields)
        case = cases.get(case_code)
        if not case_code:
            problems.append("MaHoSo is empty")
        elif case is None:
            problems.append(f"unknown case {case_code}")
        elif agency != case.agency_code:
            problems.append(
                f"MaCoQuan {agency or '(empty)'} is not the agency of case {case_code} "
                f"({case.agency_code})"
            )
        question = questions.get(code)
        value: int | None = None
        if question is None:
            problems.append(f"unknown question code {code or '(empty)'}")
        else:
            value, problem = _value(question, raw_value)
            if problem:
                problems.append(problem)
        answered_at, problem = _answer_time(raw_time, tz, latest)
        if problem:
            problems.append(problem)
        pair = (case_code, code)
        if case_code and code:
            if pair in first_seen:
                problems.append(f"case {case_code} question {code} repeats line {first_seen[pair]}")
            else:
                first_seen[pair] = row.line
                if case is not None and pair in stored:
                    problems.append(f"case {case_code} question {code} is already stored")
        if problems:
            errors.extend(f"line {row.line}: {problem}" for problem in problems)
        elif value is not None and answered_at is not None:
            answers.append(NewAnswer(case_code, code, value, answered_at))
    return answers, errors


async def active_form(engine: AsyncEngine) -> Questionnaire | None:
    """The active questionnaire, or None on a database where none was seeded yet."""
    found = await QuestionnaireStore(engine).active_form()
    if found is None:
        return None
    version, definition = found
    return Questionnaire.from_dict(definition, version=version)


async def import_file(engine: AsyncEngine, data: bytes, *, tz: ZoneInfo, now: datetime) -> Summary:
    """Validate the whole file, then store it in one transaction; `now` is naive UTC.

    Raises `ImportRejected` (nothing stored) or `storage.imports.ImportConflict`.
    """
    rows = parse(data)
    if not rows:
        raise ImportRejected(["line 2: no answers after the header"])
    codes = {row.fields[0].strip() for row in rows if row.fields}
    active = await active_form(engine)
    seed = active is None
    if active is None:
        # What `sipas serve` does on its first start: the built-in short form is version 1.
        active = builtin("short")
    cases = await imports.case_refs(engine, codes)
    stored = await imports.stored_pairs(engine, cases)
    latest = now.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None) + timedelta(days=1)
    answers, errors = validate(
        rows,
        cases=cases,
        questions=importable_questions(active),
        stored=stored,
        tz=tz,
        latest=latest,
    )
    if errors:
        raise ImportRejected(errors)
    if seed:
        version = await QuestionnaireStore(engine).seed_form(
            base=active.base, definition=active.to_dict(), now=now
        )
    else:
        version = active.version
    written = await imports.write_answers(engine, answers, version=version, now=now)
    return Summary(
        answers=written.answers, cases=written.cases, surveys_created=written.surveys_created
    )


__all__ = [
    "HEADER",
    "ImportRejected",
    "Row",
    "Summary",
    "import_file",
    "importable_questions",
    "parse",
    "parse_time",
    "validate",
]
