"""Questionnaire versions as the survey uses them: cached by number, the active one looked up
at most every few seconds (a publish reaches new invitations on every replica that quickly)."""

from __future__ import annotations

from time import monotonic

from bot.survey.questionnaire import Questionnaire
from storage.questionnaires import QuestionnaireStore

# A publish reaches new invitations within this many seconds on every replica.
ACTIVE_TTL = 5.0


class FormCache:
    """Questionnaire versions by number; a version never changes once stored."""

    def __init__(self, store: QuestionnaireStore) -> None:
        self._store = store
        self._forms: dict[int, Questionnaire] = {}
        self._active: int | None = None
        self._active_at = 0.0

    async def get(self, version: int) -> Questionnaire:
        form = self._forms.get(version)
        if form is None:
            definition = await self._store.form(version)
            if definition is None:
                raise LookupError(f"questionnaire version {version} is not stored")
            form = Questionnaire.from_dict(definition, version=version)
            self._forms[version] = form
        return form

    def forget_active(self) -> None:
        """Look the active version up again on the next call (after a publish)."""
        self._active = None

    async def active(self) -> Questionnaire:
        """The active version; looked up at most once every few seconds."""
        now = monotonic()
        if self._active is not None and now - self._active_at < ACTIVE_TTL:
            return self._forms[self._active]
        found = await self._store.active_form()
        if found is None:
            raise LookupError("no active questionnaire")
        version, definition = found
        if version not in self._forms:
            self._forms[version] = Questionnaire.from_dict(definition, version=version)
        self._active, self._active_at = version, now
        return self._forms[version]
