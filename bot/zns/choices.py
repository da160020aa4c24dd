"""How ZNS asks an agency's citizens for their survey: the rating template or the web survey.

An admin sets it per agency (`/coquan_zns <MaCoQuan> sao|web|-`, `agencies.zns_survey`):

- `rating`: the service-rating template, one tap on a star (the stars are the response);
- `invite`: the `invite` template, a button to the case's web survey (the full questionnaire);
- unset: the parent agency's choice, up the tree; at the root, the rating template.

A choice whose template `ZALO_ZNS_TEMPLATES` does not name falls back to the other one (a
survey is better asked one way than not at all). The agency tree is read at most every
`ttl` seconds, so a change by chat applies to the next invitations within that time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from bot.zns.templates import INVITE, RATING, ZnsTemplates
from storage.zns import AgencyChoice, ZnsStore

SURVEY_CHOICES = (RATING, INVITE)
TTL_SECONDS = 30.0


def resolve(choices: Iterable[AgencyChoice]) -> dict[str, str | None]:
    """Each agency's own choice, else its nearest ancestor's (a cycle ends the walk)."""
    by_code = {c.code: c for c in choices}
    resolved: dict[str, str | None] = {}
    for code in by_code:
        seen: set[str] = set()
        node: AgencyChoice | None = by_code[code]
        found: str | None = None
        while node is not None and node.code not in seen:
            seen.add(node.code)
            if node.zns_survey in SURVEY_CHOICES:
                found = node.zns_survey
                break
            node = by_code.get(node.parent_code) if node.parent_code else None
        resolved[code] = found
    return resolved


class SurveyChoices:
    """The purpose a case's ZNS survey goes with, by the case's agency."""

    def __init__(
        self,
        store: ZnsStore,
        templates: ZnsTemplates,
        *,
        monotonic: Callable[[], float],
        ttl: float = TTL_SECONDS,
    ) -> None:
        self._store = store
        self._templates = templates
        self._monotonic = monotonic
        self._ttl = ttl
        self._read_at: float | None = None
        self._choices: dict[str, str | None] = {}

    async def purpose(self, agency_code: str) -> str | None:
        """The template purpose (`rating` or `invite`) for a case of this agency; None when
        neither template is configured."""
        now = self._monotonic()
        if self._read_at is None or now - self._read_at >= self._ttl:
            self._choices = resolve(await self._store.agency_choices())
            self._read_at = now
        return self.for_choice(self._choices.get(agency_code))

    def for_choice(self, choice: str | None) -> str | None:
        """The purpose for a (resolved) choice, given the configured templates."""
        templates = self._templates
        if choice in SURVEY_CHOICES and templates.get(choice) is not None:
            return choice
        return templates.survey_purpose


__all__ = ["SURVEY_CHOICES", "SurveyChoices", "resolve"]
