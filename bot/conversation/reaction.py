"""What the router tells an adapter to do with an inbound event (`bot.conversation.router`).

A `Reaction` is what the adapter does at once — answer the press with a short notice, edit
the pressed message where the channel `edits_in_place`, clear the buttons of an answered
prompt — and the replies `Router.deliver` queues after that.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.channels.base import MessageView
from bot.commands.base import Caller


@dataclass(slots=True)
class Edit:
    """Change the pressed message: its text and choices, or only its choices."""

    view: MessageView
    choices_only: bool = False


@dataclass(slots=True)
class Reaction:
    """What the adapter does right away; then `Router.deliver` queues the replies."""

    answer: bool = True  # answer the press (False: the update is dropped silently)
    notice: str | None = None  # short text on the pressed button
    edit: Edit | None = None  # replace the pressed message
    clear_choices_of: str | None = None  # message id whose buttons go (a typed answer)
    replies: list[MessageView] = field(default_factory=list)
    caller: Caller | None = None

    def as_replies(self, caller: Caller) -> Reaction:
        """This reaction to a typed pick: there is no pressed button to carry the notice or
        to edit, so the notice goes first among the replies."""
        views = list(self.replies)
        if self.notice:
            views.insert(0, MessageView(self.notice))
        return Reaction(replies=views, caller=caller)
