"""Wire shapes of the fake ZNS (Zalo Notification Service, `tests/fakes/zalo_zns_api.py`).

* ZNS error codes (HTTP 200 with a negative `error`) and `ZnsApiError`, which answers
  `{"error", "message"}` like the OA API.
* The approved templates the fake knows (`ZnsTemplate`, built from a plain spec
  `{"type": "rating" | "invite" | "notice", "params": [...] | {name: max_length}, ...}`) and
  how they judge a `template_data` object and, for a service-rating template, the option texts
  a citizen may pick for each star level.
* The checks of a request, without I/O: `read_send` (a `POST /message/template` body) and
  `rating_page` (the answer to `GET /rating/get`).
* What the fake keeps of an accepted message (`ZnsMessage`) and of each of its ratings
  (`ZnsRating`), with the two ways a rating leaves Zalo: the `user_feedback` webhook body and a
  row of `GET /rating/get`.
* The event bodies the fake POSTs (`feedback_body`, `received_body`); they are signed like OA
  events (`tests.fakes.zalo_oa_events.signature`).

Written from Zalo's wire facts (domain.md §8, interfaces.md "Zalo channels"); what is marked
*(check)* is a best reading of Zalo's documents, not a logged payload.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from .zalo_oa_events import OaApiError

SEND_PATH = "/message/template"
RATING_PATH = "/rating/get"
ZALO_TZ = ZoneInfo("Asia/Ho_Chi_Minh")  # the quota day turns at local midnight

MAX_TRACKING_ID = 48
MAX_FEEDBACKS = 5  # option texts per star level, and picked per rating
MAX_FEEDBACK_TEXT = 50
MAX_RATING_LIMIT = 100  # rows per page of /rating/get *(check)*
DEFAULT_PARAM_MAX = 30  # Zalo's limit for a "custom label" parameter *(check)*
DEFAULT_DAILY_QUOTA = 500
TEMPLATE_TYPES = ("rating", "invite", "notice")
# A Vietnamese mobile number as ZNS wants it: 84 and nine digits (the product sends this form).
PHONE_PATTERN = re.compile(r"84[35789]\d{8}")

UNKNOWN_ERROR = -100
INVALID_PHONE = -108
INVALID_TEMPLATE = -109
EMPTY_TEMPLATE_DATA = -111
NO_ZALO_ACCOUNT = -118
EMPTY_BODY = -121
INVALID_BODY = -122
INVALID_TOKEN = -124
INVALID_PARAMETER = -132  # *(check)*: the code for a bad template_data value or tracking_id
DAILY_QUOTA_EXCEEDED = -144

ERROR_MESSAGES = {
    UNKNOWN_ERROR: "Unknown error",
    INVALID_PHONE: "Phone number invalid",
    INVALID_TEMPLATE: "Template ID invalid",
    EMPTY_TEMPLATE_DATA: "Template data empty",
    NO_ZALO_ACCOUNT: "Zalo account not existed or disabled",
    EMPTY_BODY: "Body data empty",
    INVALID_BODY: "Body format invalid",
    INVALID_TOKEN: "Access token invalid",
    INVALID_PARAMETER: "Parameter invalid",
    DAILY_QUOTA_EXCEEDED: "OA has exceeded maximum daily quota",
}

FEEDBACK_EVENT = "user_feedback"
RECEIVED_EVENT = "user_received_message"


class ZnsApiError(OaApiError):
    """A ZNS error answer; `detail` says what was wrong (for the test, not on the wire)."""

    def __init__(self, code: int, detail: str | None = None) -> None:
        super().__init__(code, detail, message=ERROR_MESSAGES.get(code), oauth=False)


def bad_parameter(detail: str) -> ZnsApiError:
    return ZnsApiError(INVALID_PARAMETER, detail)


def zalo_phone(phone: str) -> str:
    """`phone` as ZNS wants it (`0912 345 678`, `+84912345678` → `84912345678`), for the
    fake's helpers; the wire itself must already carry this form."""
    digits = "".join(c for c in phone if c.isdigit())
    return "84" + digits[1:] if digits.startswith("0") else digits


# ------------------------------------------------------------------------------ templates


@dataclass(frozen=True)
class ZnsTemplate:
    """An approved ZNS template: its parameters (name → max length), the patterns some of
    them must match, and for a `rating` template the option texts offered per star level."""

    template_id: str
    type: str
    params: Mapping[str, int]
    patterns: Mapping[str, re.Pattern[str]] = field(default_factory=dict)
    feedbacks: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    # The CTA button's link as approved, with `{parameter}` places (an `invite` template).
    button: str | None = None

    @classmethod
    def of(cls, template_id: str, spec: ZnsTemplate | Mapping[str, Any]) -> ZnsTemplate:
        """Build from a spec: `type`; `params` (a list of names, each limited to
        `max_length`, default 30, or a mapping name → max length); optional `patterns` (name →
        regex the value must match whole), for `rating`, `feedbacks` (star → up to 5
        option texts of ≤ 50 characters), and `button` (the CTA link, `{parameter}` places
        filled from the send's data). Raises ValueError on a spec that makes no sense."""
        if isinstance(spec, ZnsTemplate):
            return spec
        kind = spec.get("type")
        if kind not in TEMPLATE_TYPES:
            raise ValueError(f"template {template_id}: type must be one of {TEMPLATE_TYPES}")
        raw_params = spec.get("params", ())
        if isinstance(raw_params, Mapping):
            params = {str(name): int(limit) for name, limit in raw_params.items()}
        else:
            limit = int(spec.get("max_length", DEFAULT_PARAM_MAX))
            params = {str(name): limit for name in raw_params}
        patterns = {str(k): re.compile(v) for k, v in dict(spec.get("patterns", {})).items()}
        if not set(patterns) <= set(params):
            raise ValueError(f"template {template_id}: patterns for unknown parameters")
        feedbacks: dict[int, tuple[str, ...]] = {}
        for stars, options in dict(spec.get("feedbacks", {})).items():
            texts = tuple(options)
            if kind != "rating" or int(stars) not in range(1, 6):
                raise ValueError(f"template {template_id}: feedbacks are per star 1-5 of a rating")
            if len(texts) > MAX_FEEDBACKS or any(len(t) > MAX_FEEDBACK_TEXT for t in texts):
                raise ValueError(f"template {template_id}: up to 5 options of <= 50 characters")
            feedbacks[int(stars)] = texts
        button = spec.get("button")
        if button is not None:
            places = set(re.findall(r"\{(\w+)\}", str(button)))
            if not places <= set(params):
                raise ValueError(f"template {template_id}: button names unknown parameters")
        return cls(
            str(template_id),
            str(kind),
            params,
            patterns,
            feedbacks,
            None if button is None else str(button),
        )

    def check_data(self, data: Any) -> dict[str, str]:
        """The `template_data` of a send, or `ZnsApiError`: -111 when it is missing or empty,
        -132 for a missing or extra key, a value that is not a non-empty string, is over its
        length or does not match its pattern."""
        if data is None or data == {}:
            raise ZnsApiError(EMPTY_TEMPLATE_DATA, "template_data is missing or empty")
        if not isinstance(data, dict):
            raise bad_parameter("template_data must be an object")
        missing, extra = set(self.params) - set(data), set(data) - set(self.params)
        if missing or extra:
            raise bad_parameter(f"template_data missing {sorted(missing)}, extra {sorted(extra)}")
        for name, value in data.items():
            if not isinstance(value, str) or not value:
                raise bad_parameter(f"template_data.{name} must be a non-empty string")
            if len(value) > self.params[name]:
                raise bad_parameter(f"template_data.{name} is over {self.params[name]} characters")
            pattern = self.patterns.get(name)
            if pattern is not None and not pattern.fullmatch(value):
                raise bad_parameter(f"template_data.{name} does not match {pattern.pattern}")
        return dict(data)

    def button_link(self, data: Mapping[str, str]) -> str | None:
        """The CTA button's link with the send's parameters in place (None: no button)."""
        if self.button is None:
            return None
        return re.sub(r"\{(\w+)\}", lambda m: data[m.group(1)], self.button)

    def check_feedbacks(self, stars: int, picked: Sequence[str] | None) -> list[str] | None:
        """The option texts a citizen picks with `stars` (None: none picked); raises
        ValueError for more than 5, a text over 50 characters, or one the template does not
        offer at that star level (when it declares its options)."""
        if picked is None:
            return None
        texts = list(picked)
        if len(texts) > MAX_FEEDBACKS:
            raise ValueError(f"at most {MAX_FEEDBACKS} feedbacks can be picked")
        for text in texts:
            if not isinstance(text, str) or not 1 <= len(text) <= MAX_FEEDBACK_TEXT:
                raise ValueError(f"a feedback is 1 to {MAX_FEEDBACK_TEXT} characters: {text!r}")
            if self.feedbacks and text not in self.feedbacks.get(stars, ()):
                raise ValueError(f"{text!r} is not an option of template {self.template_id}")
        return texts


RATING_PARAMS = {"ma_ho_so": 30, "ten_thu_tuc": 200, "ten_co_quan": 200, "ngay_tra": 20}
NOTICE_PARAMS = {"ma_ho_so": 30, "ten_thu_tuc": 200, "ten_co_quan": 200}
INVITE_PARAMS = NOTICE_PARAMS | {"ma_khao_sat": 30}
# The apology slip's fields provinces send by Zalo (domain.md §4).
APOLOGY_PARAMS = NOTICE_PARAMS | {
    "ten_nguoi_nop": 30,
    "ngay_nhan": 20,
    "ngay_hen_cu": 20,
    "ngay_hen_moi": 20,
    "don_vi": 200,
    "ly_do": 200,
}
# The invite template's button, as approved: the product's web survey of the case (the fake
# leaves the host out; a test joins it to the product's address).
INVITE_BUTTON = "/s/{ma_khao_sat}"
DATE_PATTERN = r"\d{2}/\d{2}/\d{4}"  # the product's contract: dd/MM/yyyy
LOW_STARS = ("Giải quyết chậm", "Phải đi lại nhiều lần", "Cán bộ thiếu nhiệt tình")
MIDDLE_STARS = ("Thời gian chờ còn lâu", "Hướng dẫn chưa rõ")
HIGH_STARS = ("Đúng hẹn", "Cán bộ nhiệt tình", "Hướng dẫn rõ ràng")

# Purpose → template id, as `ZALO_ZNS_TEMPLATES` names them (see `templates_setting`).
DEFAULT_TEMPLATE_IDS = {
    "rating": "410001",
    "invite": "410002",
    "apology": "410003",
    "result_ready": "410004",
}
DEFAULT_TEMPLATES: dict[str, dict[str, Any]] = {
    DEFAULT_TEMPLATE_IDS["rating"]: {
        "type": "rating",
        "params": RATING_PARAMS,
        "patterns": {"ngay_tra": DATE_PATTERN},
        "feedbacks": {1: LOW_STARS, 2: LOW_STARS, 3: MIDDLE_STARS, 4: HIGH_STARS, 5: HIGH_STARS},
    },
    DEFAULT_TEMPLATE_IDS["invite"]: {
        "type": "invite",
        "params": INVITE_PARAMS,
        "patterns": {"ma_khao_sat": r"[A-Za-z0-9_-]{22}"},
        "button": INVITE_BUTTON,
    },
    DEFAULT_TEMPLATE_IDS["apology"]: {
        "type": "notice",
        "params": APOLOGY_PARAMS,
        "patterns": {name: DATE_PATTERN for name in ("ngay_nhan", "ngay_hen_cu", "ngay_hen_moi")},
    },
    DEFAULT_TEMPLATE_IDS["result_ready"]: {"type": "notice", "params": NOTICE_PARAMS},
}


def templates_setting(ids: Mapping[str, str] = DEFAULT_TEMPLATE_IDS) -> str:
    """The `ZALO_ZNS_TEMPLATES` value naming these templates: `rating=<id>,invite=<id>,…`."""
    return ",".join(f"{purpose}={template_id}" for purpose, template_id in ids.items())


# -------------------------------------------------------------------------------- records


@dataclass(frozen=True)
class ZnsRating:
    """One rating a citizen gave a message (a message may be rated again: the last counts)."""

    rate: int
    note: str
    feedbacks: list[str] | None
    submit_time: int  # fake-clock epoch ms


@dataclass
class ZnsMessage:
    """A template message the fake accepted."""

    phone: str  # 84… as sent
    template_id: str
    template_type: str
    template_data: dict[str, str]
    tracking_id: str | None
    msg_id: str
    sent_time: int  # fake-clock epoch ms
    ratings: list[ZnsRating] = field(default_factory=list)
    button: str | None = None  # the CTA link as the citizen's phone shows it

    @property
    def rating(self) -> ZnsRating | None:
        """The rating that counts (the latest), if any."""
        return self.ratings[-1] if self.ratings else None

    def polled(self) -> dict[str, Any]:
        """This message's latest rating as a row of `GET /rating/get`."""
        rating = self.rating
        if rating is None:
            raise ValueError(f"message {self.msg_id} has no rating")
        return {
            "msgId": self.msg_id,
            "trackingId": self.tracking_id,
            "rate": rating.rate,
            "note": rating.note,
            "feedbacks": rating.feedbacks,
            "submitDate": str(rating.submit_time),  # *(check)*: string of ms like submit_time
        }


# ---------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class SendRequest:
    """A `POST /message/template` body that passed every check of its own."""

    template: ZnsTemplate
    phone: str
    data: dict[str, str]
    tracking_id: str | None


def read_send(body: Any, templates: Mapping[str, ZnsTemplate]) -> SendRequest:
    """Check a send body in Zalo's order (-121/-122 body, -109 template, -108 phone, then
    -111/-132 `template_data` and -132 `tracking_id`); raises `ZnsApiError`."""
    if body is None or body == {}:
        raise ZnsApiError(EMPTY_BODY, "the body is empty")
    if not isinstance(body, dict):
        raise ZnsApiError(INVALID_BODY, "the body must be a JSON object")
    template_id = body.get("template_id")
    template = templates.get(str(template_id)) if template_id is not None else None
    if template is None:
        raise ZnsApiError(INVALID_TEMPLATE, f"unknown template {template_id!r}")
    phone = body.get("phone")
    if not isinstance(phone, str) or not PHONE_PATTERN.fullmatch(phone):
        raise ZnsApiError(INVALID_PHONE, "phone must be 84 and nine digits")
    data = template.check_data(body.get("template_data"))
    tracking_id = body.get("tracking_id")
    if tracking_id is not None and (
        not isinstance(tracking_id, str) or not 1 <= len(tracking_id) <= MAX_TRACKING_ID
    ):
        raise bad_parameter(f"tracking_id must be 1 to {MAX_TRACKING_ID} characters")
    return SendRequest(template, phone, data, tracking_id)


def rating_page(
    query: Mapping[str, str], templates: Mapping[str, ZnsTemplate], sent: Sequence[ZnsMessage]
) -> dict[str, Any]:
    """The `data` of `GET /rating/get`: the latest rating of each message of the template
    submitted within `[from_time, to_time]`, oldest first, one page of it; raises
    `ZnsApiError` (-109 unknown template, -132 any other bad parameter)."""
    template = templates.get(query.get("template_id", ""))
    if template is None:
        raise ZnsApiError(INVALID_TEMPLATE, f"unknown template {query.get('template_id')!r}")
    numbers: dict[str, int] = {}
    for name in ("from_time", "to_time", "offset", "limit"):
        value = query.get(name, "")
        if not value.isdigit():
            raise bad_parameter(f"{name} must be a non-negative integer")
        numbers[name] = int(value)
    start, end = numbers["from_time"], numbers["to_time"]
    offset, limit = numbers["offset"], numbers["limit"]
    if start > end or not 1 <= limit <= MAX_RATING_LIMIT:
        raise bad_parameter(f"from_time <= to_time and limit 1 to {MAX_RATING_LIMIT}")
    rated = [
        (m.rating.submit_time, m.msg_id, m)
        for m in sent
        if m.template_id == template.template_id
        and m.rating is not None
        and start <= m.rating.submit_time <= end
    ]
    rated.sort(key=lambda row: row[:2])
    page = [m.polled() for _, _, m in rated[offset : offset + limit]]
    return {"total": len(rated), "data": page}


# --------------------------------------------------------------------------------- events


def feedback_body(
    *, app_id: str, oa_id: str, message: ZnsMessage, rating: ZnsRating
) -> dict[str, Any]:
    """The `user_feedback` event of `rating` (`submit_time` and `timestamp` strings of ms)."""
    return {
        "app_id": app_id,
        "oa_id": oa_id,
        "event_name": FEEDBACK_EVENT,
        "timestamp": str(rating.submit_time),
        "message": {
            "msg_id": message.msg_id,
            "tracking_id": message.tracking_id,
            "rate": rating.rate,
            "note": rating.note,
            "feedbacks": rating.feedbacks,
            "submit_time": str(rating.submit_time),
        },
    }


def received_body(*, app_id: str, oa_id: str, message: ZnsMessage, ts: int) -> dict[str, Any]:
    """The delivery receipt of a ZNS message: it names the citizen by PHONE (`recipient.id`),
    which the product must never keep in clear."""
    return {
        "app_id": app_id,
        "event_name": RECEIVED_EVENT,
        "timestamp": str(ts),
        "sender": {"id": oa_id},
        "recipient": {"id": message.phone},
        "message": {
            "msg_id": message.msg_id,
            "tracking_id": message.tracking_id,
            "delivery_time": str(ts),
        },
    }
