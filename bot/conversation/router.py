"""The one place that decides what an inbound event means, for every channel.

An adapter turns its platform's update into a neutral event (`bot.channels.inbound`) and calls
`Router.handle`. The router first spends the chat's inbound budget (before anything reads the
database: past it the chat gets one warning, then silence for a while; a recorded survey answer
gives its unit back), then routes:

- text: an open admin or head dialog; on a channel without buttons, a number (or "1, 3", or
  "Xong") that picks from the chat's pending choices, handled as the press it stands for;
  a receipt's link code ("mã ABCD-EFGH") when no survey question awaits a typed answer (a
  free-text answer holding a code-like word stays an answer); else a head's owed note or a
  typed survey answer;
- a link code an adapter read itself: always a code attempt;
- a command: everyone's (`/start`, `/help`, `/stop`, `/language`, `/status`) to the survey
  and case-linking services, the modules' (admin, head, questionnaire editor, `/cancel`) to
  the dispatcher;
- a press, decoded strictly (`bot.channels.actions`): a survey answer, an alert button, a
  follow-up, a module's button; anything the bot did not make gets a polite "no longer valid",
  is counted, and is never looked up;
- a shared phone, media, an unsubscribe.

It returns a `Reaction`: what the adapter must do at once (a short notice on the pressed
button, an in-place edit where the channel `edits_in_place`, buttons to clear under an answered
prompt). Replies are queued with `deliver` after that, through the per-channel pacing. A typed
pick has no button to show a notice on: its notice becomes a reply, and where the channel
cannot edit, a multi-choice pick is confirmed by a reply listing the picks so far.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from bot.channels.actions import (
    AlertPress,
    FollowUp,
    ModuleAction,
    SurveyAnswer,
    decode,
    decode_answer,
)
from bot.channels.base import Channel, MessageView, SendOutcome
from bot.channels.inbound import (
    ChatRef,
    Command,
    Inbound,
    LinkCode,
    Media,
    Press,
    SharedPhone,
    Start,
    Text,
    Unsubscribed,
)
from bot.commands.base import Caller, TypedPick
from bot.conversation.questions import answered_text, question_choices
from bot.conversation.reaction import Edit, Reaction
from bot.conversation.replies import ReplyQueue
from bot.conversation.typed import (
    OutOfRange,
    Picks,
    might_pick,
    out_of_range_text,
    picks_text,
    read_typed,
    survey_options,
)
from bot.conversation.wording import say, say_head
from bot.heads.loop import AlertLoop
from bot.onestop.links import extract_link_code
from bot.survey.linking import CaseLinking
from bot.survey.service import PressResult, SurveyService
from storage.pending_choices import PendingChoiceStore

if TYPE_CHECKING:
    from bot.services import ChatCommands

NOTICE_LIMIT = 200  # characters in a callback answer


class Router:
    """Routes neutral inbound events to the survey, the heads' alerts and the commands."""

    def __init__(
        self,
        *,
        surveys: SurveyService,
        linking: CaseLinking,
        replies: ReplyQueue,
        alerts: AlertLoop | None = None,
        commands: ChatCommands | None = None,
        choices: PendingChoiceStore | None = None,
    ) -> None:
        self._surveys = surveys
        self._linking = linking
        self._alerts = alerts
        self._commands = commands
        self._replies = replies
        self._choices = choices

    def deliver(self, channel: Channel, reaction: Reaction) -> None:
        """Queue the reaction's replies behind the chat's earlier ones."""
        if reaction.caller is not None and reaction.replies:
            self._replies.submit(
                channel,
                chat_id=reaction.caller.chat_id,
                external_id=reaction.caller.external_id,
                views=reaction.replies,
            )

    async def drain(self) -> None:
        """Wait for the queued replies (before a channel closes)."""
        await self._replies.drain()

    async def handle(self, event: Inbound, channel: Channel) -> Reaction:
        """What the event means; the adapter shows the result (then calls `deliver`)."""
        gate = await self._admit(event)
        if gate is not None:
            return gate
        match event:
            case Start(chat=chat, payload=payload):
                return await self._start(chat, payload)
            case Command(chat=chat, name=name, args=args):
                return await self._command(chat, name, list(args))
            case Press():
                reaction = await self._press(event, channel)
                return await self._shown_as_replies(event.chat, reaction, channel)
            case Text(chat=chat, text=text):
                return await self._text(chat, text, channel)
            case LinkCode(chat=chat, code=code):
                if chat.private:
                    await self._linking.on_link_code(chat, code)
            case SharedPhone(chat=chat, phone=phone, own=own):
                await self._linking.on_contact(chat, phone, own=own, private=chat.private)
            case Media(chat=chat):
                if chat.private:
                    await self._surveys.on_media(chat)
            case Unsubscribed(chat=chat):
                await self._surveys.on_unsubscribed(chat)
        return Reaction()

    async def _shown_as_replies(
        self, chat: ChatRef, reaction: Reaction, channel: Channel
    ) -> Reaction:
        """A press on a channel that cannot answer it with a notice (a Zalo OA tap is just a
        message): the notice goes first among the replies."""
        if channel.capabilities.press_notices or not reaction.answer:
            return reaction
        caller = reaction.caller or await self._wired_caller(chat)
        return reaction if caller is None else reaction.as_replies(caller)

    # -- the gate --------------------------------------------------------------------------

    async def _admit(self, event: Inbound) -> Reaction | None:
        """None when the event may go on; else what to do with a dropped one."""
        commands = self._commands
        if commands is None:
            return None
        chat = event.chat
        verdict = commands.dispatcher.admit(chat.channel, chat.external_id)
        if verdict == "ok":
            return None
        if verdict == "silent":
            return Reaction(answer=False)
        caller = await self._caller(chat)
        warning = commands.dispatcher.flood_reply(caller)
        if isinstance(event, Press):
            return Reaction(notice=warning.text[:NOTICE_LIMIT])
        return Reaction(replies=[warning.view()], caller=caller)

    def _refund(self, chat: ChatRef) -> None:
        """The event was a recorded survey answer: it does not count against the budget."""
        if self._commands is not None:
            self._commands.dispatcher.refund(chat.channel, chat.external_id)

    def _refused(self, reason: str) -> None:
        if self._commands is not None:
            self._commands.dispatcher.counters.refused(reason)

    async def _caller(self, chat: ChatRef) -> Caller:
        assert self._commands is not None
        return await self._commands.access.caller(
            channel=chat.channel,
            external_id=chat.external_id,
            language=chat.language,
            name=chat.name,
        )

    async def _wired_caller(self, chat: ChatRef) -> Caller | None:
        """The caller when commands are wired (their menus may need refreshing)."""
        return None if self._commands is None else await self._caller(chat)

    async def _language(self, chat: ChatRef) -> str:
        """The chat's chosen language (`/language`), else what its app reports."""
        caller = await self._wired_caller(chat)
        return chat.language if caller is None else caller.language

    async def _refresh_menu(self, caller: Caller | None) -> None:
        if caller is not None and self._commands is not None:
            await self._commands.menus.refresh_if_privileged(caller)

    # -- commands --------------------------------------------------------------------------

    async def _start(self, chat: ChatRef, payload: str | None) -> Reaction:
        """Link the case behind the start token, or welcome."""
        if not chat.private:
            return Reaction()
        caller = await self._wired_caller(chat)
        await self._linking.on_start(chat, payload)
        await self._refresh_menu(caller)
        return Reaction()

    async def _command(self, chat: ChatRef, name: str, args: list[str]) -> Reaction:
        if name == "start":
            return await self._start(chat, args[0] if args else None)
        if name == "help":
            caller = await self._wired_caller(chat)
            await self._surveys.on_help(chat)
            if caller is None or self._commands is None:
                return Reaction()
            views = [reply.view() for reply in self._commands.dispatcher.help(caller)]
            await self._refresh_menu(caller)
            return Reaction(replies=views, caller=caller)
        if name == "stop":
            await self._surveys.on_stop(chat)
            return Reaction()
        if name == "language":
            await self._surveys.on_language(chat, args[0] if args else None)
            return Reaction()
        if name == "status":
            await self._linking.on_status(chat, " ".join(args) or None)
            return Reaction()
        commands = self._commands
        if commands is None or not chat.private:
            await self._surveys.on_help(chat)
            return Reaction()
        caller = await self._caller(chat)
        if not commands.dispatcher.knows(name):
            await self._surveys.on_help(chat)
            return Reaction()
        replies = await commands.dispatcher.command(caller, name, args)
        return Reaction(replies=[reply.view() for reply in replies], caller=caller)

    # -- text ------------------------------------------------------------------------------

    async def _text(self, chat: ChatRef, text: str, channel: Channel) -> Reaction:
        """An open dialog's step; else a typed pick; else a link code, unless a survey question
        awaits a typed answer; else a head's note or a typed survey answer (the buttons of the
        question it answered are cleared where the channel can edit)."""
        if not chat.private:
            return Reaction()
        if self._commands is not None:
            caller = await self._caller(chat)
            try:
                replies = await self._commands.dispatcher.text(caller, text)
            except TypedPick as leave:
                typed = await self._typed_pick(caller, chat, text, channel)
                replies = leave.replies
                if typed is not None:
                    return typed
            if replies is not None:
                return Reaction(replies=[reply.view() for reply in replies], caller=caller)
            typed = await self._typed_pick(caller, chat, text, channel)
            if typed is not None:
                return typed
        if await self._code_attempt(chat, text):
            await self._linking.on_link_code(chat, text)
            return Reaction()
        result = await self._surveys.on_text(chat, text)
        if result is None:
            return Reaction()
        self._refund(chat)
        if result.prompt_message_id is None or not channel.capabilities.edits_in_place:
            return Reaction()
        return Reaction(clear_choices_of=result.prompt_message_id)

    async def _code_attempt(self, chat: ChatRef, text: str) -> bool:
        """Whether typed text is a link code sent to link a case: it holds one, no survey
        question awaits a typed answer (a free-text answer may hold a code-like word), and
        the chat is no head owing the note of a handled alert."""
        if extract_link_code(text) is None:
            return False
        if await self._surveys.awaiting_question(chat) is not None:
            return False
        if self._alerts is not None:
            row = await self._surveys.chat_row(chat)
            if await self._alerts.store.pending_note(row.id) is not None:
                return False
        return True

    async def _typed_pick(
        self, caller: Caller, chat: ChatRef, text: str, channel: Channel
    ) -> Reaction | None:
        """A typed number of the chat's pending choices (its latest message whose options were
        numbered: all of them on a channel without buttons, a long list on the Zalo OA) is the
        press of that option; None when the text picks nothing (it goes on as text).

        Pending survey options count only while their survey awaits an answer (a number typed
        before the next question arrived is meant for the one on screen), and not under a
        free-text question (whose answer may well be a number)."""
        if self._choices is None:
            return None
        if not might_pick(text):
            return None
        pending = await self._choices.pending(caller.chat_id)
        if pending is None or not pending.actions:
            return None
        options = survey_options(pending.actions)
        if options is not None:
            awaiting = await self._surveys.awaiting_question(chat)
            if awaiting is None or awaiting.survey_id != options.survey_id:
                return None
            if awaiting.question.code == options.code and awaiting.question.kind == "text":
                return None
        typed = read_typed(text, pending.actions, multi=options is not None and options.multi)
        # The options were numbered lines: what answers the pick speaks of typing.
        channel = _typed_wording(channel)
        match typed:
            case None:
                return None
            case OutOfRange(count=count):
                view = MessageView(out_of_range_text(caller.language, count))
                return Reaction(replies=[view], caller=caller)
            case Picks(actions=actions) if len(actions) > 1:
                reaction = await self._typed_multi(chat, actions, channel)
            case Picks(actions=actions):
                reaction = await self._press(Press(chat, actions[0]), channel)
        return reaction.as_replies(caller)

    async def _typed_multi(
        self, chat: ChatRef, actions: tuple[str, ...], channel: Channel
    ) -> Reaction:
        """Several options of a multi-choice question typed at once ("1, 3"): each is pressed
        in turn, until one of them answers the question."""
        presses = [press for action in actions if (press := decode_answer(action)) is not None]
        result = PressResult()
        for press in presses:
            result = await self._surveys.on_press(chat, press.survey_id, press.code, press.value)
            if result.toggled is None:
                break
        return await self._answered(chat, presses[-1], result, channel)

    # -- presses ---------------------------------------------------------------------------

    async def _press(self, event: Press, channel: Channel) -> Reaction:
        commands = self._commands
        owns = commands.dispatcher.owns_callback if commands is not None else _nothing
        action = decode(event.action, owns_module=owns)
        match action:
            case AlertPress() if self._alerts is not None:
                return await self._alert_press(event.chat, action, channel)
            case FollowUp() if self._alerts is not None:
                return await self._follow_up(event.chat, action, channel)
            case ModuleAction(data=data) if commands is not None:
                return await self._module_press(event, data, channel)
            case SurveyAnswer():
                return await self._answer(event.chat, action, channel)
        return self._stale(event.chat, "malformed", channel)

    def _stale(self, chat: ChatRef, reason: str, channel: Channel) -> Reaction:
        """A press the bot cannot honour: politely, counted, nothing looked up."""
        self._refused(reason)
        return Reaction(notice=say(chat.language, "stale_button", buttons=_buttons(channel)))

    async def _alert_press(self, chat: ChatRef, press: AlertPress, channel: Channel) -> Reaction:
        """A head pressed Đã tiếp nhận / Đã xử lý under an alert."""
        assert self._alerts is not None
        code = "a" if press.action == "ack" else "d"
        notice = await self._alerts.on_alert_press(chat, press.alert_id, code)
        if notice == "not_yours":
            self._refused("alert")
        if notice == "ask_note_sent":
            return Reaction()
        language = await self._language(chat)
        return Reaction(notice=say_head(language, notice, buttons=_buttons(channel)))

    async def _follow_up(self, chat: ChatRef, press: FollowUp, channel: Channel) -> Reaction:
        """The citizen answered whether the handled complaint satisfied them."""
        assert self._alerts is not None
        notice = await self._alerts.on_follow_up(chat, press.alert_id, press.satisfied)
        buttons = _buttons(channel)
        language = await self._language(chat)
        text = (
            say_head(language, notice, buttons=buttons)
            if notice == "follow_up_thanks"
            else say(language, notice, buttons=buttons)
        )
        edits = channel.capabilities.edits_in_place
        edit = Edit(MessageView(""), choices_only=True) if edits else None
        return Reaction(notice=text, edit=edit)

    async def _module_press(self, event: Press, data: str, channel: Channel) -> Reaction:
        """A button of an admin or head message."""
        assert self._commands is not None
        caller = await self._caller(event.chat)
        result = await self._commands.dispatcher.press(caller, data)
        views = [reply.view() for reply in result.replies]
        edit: Edit | None = None
        if result.edit is not None:
            if channel.capabilities.edits_in_place and event.message_id is not None:
                edit = Edit(result.edit.view())
            else:
                views.insert(0, result.edit.view())
        notice = result.notice[:NOTICE_LIMIT] if result.notice else None
        return Reaction(notice=notice, edit=edit, replies=views, caller=caller)

    async def _answer(self, chat: ChatRef, press: SurveyAnswer, channel: Channel) -> Reaction:
        """Record a pressed answer."""
        result = await self._surveys.on_press(chat, press.survey_id, press.code, press.value)
        return await self._answered(chat, press, result, channel)

    async def _answered(
        self, chat: ChatRef, press: SurveyAnswer, result: PressResult, channel: Channel
    ) -> Reaction:
        """Show what a pressed answer did: the choice in place where the channel can edit; a
        multi-choice pick in the keyboard, or else in a short confirmation."""
        if result.notice == "stale_button":
            self._refused("survey")
        if result.answered is not None:
            self._refund(chat)
        buttons = _buttons(channel)
        notice = say(result.language, result.notice, buttons=buttons) if result.notice else None
        edits = channel.capabilities.edits_in_place
        if result.answered is not None and edits:
            question, given = result.answered
            number, total = result.position
            text = answered_text(question, given, result.language, number=number, total=total)
            return Reaction(notice=notice, edit=Edit(MessageView(text)))
        if result.toggled is not None:
            question, picks, _number, _total = result.toggled
            if edits:
                choices = question_choices(press.survey_id, question, result.language, draft=picks)
                edit = Edit(MessageView("", choices), choices_only=True)
                return Reaction(notice=notice, edit=edit)
            confirm = picks_text(question, picks, result.language, buttons=buttons)
            caller = await self._wired_caller(chat)
            return Reaction(notice=notice, replies=[MessageView(confirm)], caller=caller)
        return Reaction(notice=notice)


def _buttons(channel: Channel) -> bool:
    """Whether texts may speak of buttons on this channel."""
    return channel.capabilities.buttons


def _nothing(_data: str) -> bool:
    return False


class _TypedWording:
    """A channel as seen by a typed pick: its replies are worded for typing (the options the
    pick came from were numbered lines, even where the channel has buttons)."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self.name = channel.name
        self.capabilities = replace(channel.capabilities, max_buttons=0)
        self.limits = channel.limits

    async def send(self, external_id: str, view: MessageView) -> SendOutcome:
        return await self._channel.send(external_id, view)

    async def edit(
        self, external_id: str, message_id: str, view: MessageView, *, choices_only: bool = False
    ) -> bool:
        return await self._channel.edit(external_id, message_id, view, choices_only=choices_only)


def _typed_wording(channel: Channel) -> Channel:
    return channel if not channel.capabilities.buttons else _TypedWording(channel)
