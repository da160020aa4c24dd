"""ZNS service ratings in: a citizen's stars become their case's survey response.

A rating arrives as a stored `user_feedback` event (the OA webhook's: a `RatingIntake` is the
OA inbox's handler for that kind) or as a row of `GET /rating/get` (`bot.zns.poll`); both are
read into one `Rating` and take the same path:

- the survey behind `tracking_id` (the survey id as text); a malformed or unknown id is
  refused quietly and counted;
- the overall question (topic `overall`) of the survey's pinned questionnaire version gets
  `rate`; the picked feedback texts and the note are the comment: the answer to the form's
  free-text suggestion question, or else the overall answer's text;
- the first rating completes an open survey (or one that expired after the rating was given)
  and the heads' low-score alert is raised exactly as a chat's completion raises it; a survey
  completed on another channel first stays as it is;
- a later rating (Zalo lets a message be rated again: the last counts) replaces the answers
  the earlier one wrote, and the alert is looked at again (its key is the survey: never a
  second alert for one case); an older or equal one — the same rating by webhook and by
  poll — changes nothing.

Every outcome is counted (`counts`, `samples` for /metrics). Nothing here logs the note or
anything else the citizen wrote.
"""

from __future__ import annotations

import logging
import unicodedata
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.clock import Clock
from bot.metrics import Sample
from bot.survey.engine import MAX_TEXT
from bot.survey.forms import FormCache
from bot.survey.questionnaire import Question, Questionnaire
from storage.channel_events import StoredEvent
from storage.surveys import AnswerRow
from storage.zns_ratings import RatedSurvey, ZnsRatingStore

log = logging.getLogger(__name__)

# Outcomes, as counted.
RECORDED = "recorded"  # the rating completed the survey
REPLACED = "replaced"  # a later rating took the place of the one in effect
STALE = "stale"  # the rating in effect is this one (delivered again) or a later one
UNKNOWN = "unknown"  # no survey has that tracking id
MALFORMED = "malformed"  # not a readable rating (no usable tracking id, rate or time)
ELSEWHERE = "completed_elsewhere"  # another channel completed the survey first
EXPIRED = "expired"  # given after the survey's invitation expired
CLOSED = "closed"  # a survey in a state no rating completes
NO_OVERALL = "no_overall"  # the survey's form has no overall question to put it on
CONFLICT = "conflict"  # other writers kept moving the survey on: given up

COMPLETE, REPLACE = "complete", "replace"
# Survey states a first rating completes ("expired" only for a rating given in time).
ACCEPTING = frozenset({"invited", "in_progress", "opted_out", "expired"})
ATTEMPTS = 3
MAX_SURVEY_ID = 2**63 - 1
MAX_MS = 10**14  # epoch ms beyond any real date
MAX_FEEDBACKS = 5
MAX_FEEDBACK_TEXT = 100
OVERALL_TOPIC, SUGGESTION_TOPIC = "overall", "suggestion"

Completed = Callable[[int], Awaitable[object]]


class RatingError(ValueError):
    """Not a rating the product can read."""


@dataclass(frozen=True, slots=True)
class Rating:
    """One rating of one ZNS message, however it arrived."""

    msg_id: str
    survey_id: int
    rate: int
    note: str
    feedbacks: tuple[str, ...]
    submitted_ms: int

    @property
    def submitted_utc(self) -> datetime:
        """When it was given, naive UTC."""
        return datetime.fromtimestamp(self.submitted_ms / 1000, UTC).replace(tzinfo=None)

    def comment(self) -> str | None:
        """The picked reasons on one line, then the note; None when there is neither."""
        parts = ["; ".join(self.feedbacks)] if self.feedbacks else []
        if self.note:
            parts.append(self.note)
        text = "\n".join(parts).strip()
        return text[:MAX_TEXT] if text else None


def _int(value: Any) -> int | None:
    """An integer sent as a number or a string of digits, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return None


def _clean(value: Any, limit: int) -> str:
    """Citizen text as it may be stored: no control characters (PostgreSQL refuses NUL) but
    line breaks, trimmed, at most `limit` characters."""
    if not isinstance(value, str):
        return ""
    kept = "".join(c for c in value if c in "\n\t" or not unicodedata.category(c).startswith("C"))
    return kept.strip()[:limit]


def read_rating(
    *, msg_id: Any, tracking_id: Any, rate: Any, note: Any, feedbacks: Any, submitted: Any
) -> Rating:
    """A rating from its fields as Zalo names them in either shape; raises `RatingError`."""
    survey_id = _int(tracking_id)
    if survey_id is None or not 0 < survey_id <= MAX_SURVEY_ID:
        raise RatingError("the tracking id is not a survey id")
    stars = _int(rate)
    if stars is None or not 1 <= stars <= 5:
        raise RatingError("the rate is not 1 to 5")
    submitted_ms = _int(submitted)
    if submitted_ms is None or not 0 < submitted_ms < MAX_MS:
        raise RatingError("the submit time is not epoch milliseconds")
    picked = feedbacks if isinstance(feedbacks, list) else []
    texts = [_clean(text, MAX_FEEDBACK_TEXT) for text in picked]
    return Rating(
        msg_id=_clean(msg_id, 64) if isinstance(msg_id, str) else str(_int(msg_id) or ""),
        survey_id=survey_id,
        rate=stars,
        note=_clean(note, MAX_TEXT),
        feedbacks=tuple(text for text in texts if text)[:MAX_FEEDBACKS],
        submitted_ms=submitted_ms,
    )


def rating_of_event(body: Mapping[str, Any]) -> Rating:
    """The rating of a stored `user_feedback` event body (`message.submit_time`, else the
    event's `timestamp`); raises `RatingError`."""
    message = body.get("message")
    if not isinstance(message, Mapping):
        raise RatingError("the event has no message")
    return read_rating(
        msg_id=message.get("msg_id"),
        tracking_id=message.get("tracking_id"),
        rate=message.get("rate"),
        note=message.get("note"),
        feedbacks=message.get("feedbacks"),
        submitted=message.get("submit_time", body.get("timestamp")),
    )


def rating_of_row(row: Mapping[str, Any]) -> Rating:
    """The rating of a `GET /rating/get` row; raises `RatingError`."""
    return read_rating(
        msg_id=row.get("msgId"),
        tracking_id=row.get("trackingId"),
        rate=row.get("rate"),
        note=row.get("note"),
        feedbacks=row.get("feedbacks"),
        submitted=row.get("submitDate"),
    )


def decide(survey: RatedSurvey, rating: Rating) -> str:
    """What `rating` does to `survey`: COMPLETE or REPLACE it, or the outcome of doing
    nothing."""
    if survey.rated_ms is not None:
        return REPLACE if rating.submitted_ms > survey.rated_ms else STALE
    if survey.status == "completed":
        return ELSEWHERE
    if survey.status not in ACCEPTING:
        return CLOSED
    if rating.submitted_utc >= survey.expires_at:
        return EXPIRED
    return COMPLETE


def rating_questions(form: Questionnaire) -> tuple[Question | None, Question | None]:
    """The form's overall five-level question and its free-text suggestion question."""
    overall = next(
        (q for q in form.questions if q.topic == OVERALL_TOPIC and q.kind == "likert5"), None
    )
    comment = next(
        (q for q in form.questions if q.topic == SUGGESTION_TOPIC and q.kind == "text"), None
    )
    return overall, comment


def rating_answers(
    rating: Rating, overall: Question, comment: Question | None
) -> tuple[list[AnswerRow], list[str]]:
    """The answers a rating writes, and the questions whose earlier answers it replaces."""
    text = rating.comment()
    on_overall = text if comment is None else None
    answers = [AnswerRow(overall.code, rating.rate, on_overall, None, False)]
    if comment is not None and text is not None:
        answers.append(AnswerRow(comment.code, None, text, None, False))
    return answers, [overall.code] + ([comment.code] if comment is not None else [])


class RatingIntake:
    """Takes ZNS ratings into surveys (see the module docstring); `await intake(event)` is
    the OA inbox's handler for `user_feedback` events."""

    def __init__(
        self,
        store: ZnsRatingStore,
        *,
        forms: FormCache,
        clock: Clock,
        on_completed: Completed | None = None,
    ) -> None:
        self._store = store
        self._forms = forms
        self._clock = clock
        # The heads' alerts, exactly as a chat's completion raises them.
        self._on_completed = on_completed
        self.counts: Counter[str] = Counter()

    async def __call__(self, stored: StoredEvent) -> None:
        await self.take_event(stored.body)

    async def take_event(self, body: Mapping[str, Any]) -> str:
        """A stored `user_feedback` event; its outcome."""
        try:
            rating = rating_of_event(body)
        except RatingError as exc:
            return self._refused(exc, "webhook")
        return await self.take(rating)

    async def take_row(self, row: Mapping[str, Any]) -> str:
        """A polled rating; its outcome."""
        try:
            rating = rating_of_row(row)
        except RatingError as exc:
            return self._refused(exc, "poll")
        return await self.take(rating)

    async def take(self, rating: Rating) -> str:
        """Record `rating` on its survey (storage errors propagate: the caller tries again)."""
        for _ in range(ATTEMPTS):
            survey = await self._store.survey(rating.survey_id)
            if survey is None:
                return self._count(UNKNOWN, rating)
            step = decide(survey, rating)
            if step not in (COMPLETE, REPLACE):
                return self._count(step, rating)
            try:
                form = await self._forms.get(survey.version)
            except LookupError:
                return self._count(NO_OVERALL, rating)
            overall, comment = rating_questions(form)
            if overall is None:
                return self._count(NO_OVERALL, rating)
            answers, clear = rating_answers(rating, overall, comment)
            local = datetime.fromtimestamp(rating.submitted_ms / 1000, self._clock.tz)
            recorded = await self._store.record(
                survey,
                # A first rating keeps what a chat answered before but what it answers itself.
                clear=clear if step == REPLACE else (),
                answers=answers,
                submitted_ms=rating.submitted_ms,
                answered_at=local.replace(tzinfo=None),
                now=self._clock.utcnow(),
            )
            if recorded:
                outcome = RECORDED if step == COMPLETE else REPLACED
                self._count(outcome, rating)
                await self._alert(survey.id)
                return outcome
        return self._count(CONFLICT, rating)

    async def _alert(self, survey_id: int) -> None:
        if self._on_completed is None:
            return
        try:
            await self._on_completed(survey_id)
        except Exception:
            # The citizen's rating is stored; an alert failure must not undo that.
            log.exception("alerting on a rated survey failed")

    def _count(self, outcome: str, rating: Rating) -> str:
        self.counts[outcome] += 1
        level = logging.INFO if outcome in (RECORDED, REPLACED) else logging.DEBUG
        log.log(
            level,
            "zns rating",
            extra={"outcome": outcome, "survey_id": rating.survey_id, "rate": rating.rate},
        )
        return outcome

    def _refused(self, error: RatingError, source: str) -> str:
        self.counts[MALFORMED] += 1
        log.warning("zns rating unreadable", extra={"source": source, "reason": str(error)})
        return MALFORMED

    def samples(self) -> Iterable[Sample]:
        """The ratings taken in, by outcome, for /metrics."""
        for outcome, count in sorted(self.counts.items()):
            yield Sample(
                "zns_ratings", "ZNS ratings taken in, by outcome", count, {"outcome": outcome}
            )


__all__ = [
    "Rating",
    "RatingError",
    "RatingIntake",
    "decide",
    "rating_answers",
    "rating_of_event",
    "rating_of_row",
    "rating_questions",
    "read_rating",
]
