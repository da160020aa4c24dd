"""Thin python-telegram-bot handlers: turn an update into a neutral event, let the router
decide what it means, show the result.

What an event means (a dialog, a note, an answer, a command, a press), the per-chat budget
every update spends first and the strict decoding of callback data all live in the router
(`bot.conversation.router`). A handler only reads the update, answers the callback query
(first, with the router's notice), edits the pressed message when asked, and hands the
replies back for sending.
"""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.channels.base import MessageView
from bot.channels.inbound import (
    ChatRef,
    Command,
    Inbound,
    Media,
    Press,
    SharedPhone,
    Start,
    Text,
)
from bot.conversation.router import Reaction, Router
from bot.conversation.wording import say
from bot.telegram.sender import CHANNEL, TelegramMessenger

log = logging.getLogger(__name__)
ROUTER_KEY = "router"
MESSENGER_KEY = "messenger"
# Everyone's commands, handled by name; any other command goes to the modules.
CITIZEN_COMMANDS = ("start", "help", "stop", "language", "status")
_NO_CHOICES = MessageView("")


def _chat(update: Update) -> ChatRef:
    user = update.effective_user
    chat = update.effective_chat
    assert chat is not None
    language = (user.language_code or "vi")[:2] if user else "vi"
    return ChatRef(
        channel=CHANNEL,
        external_id=str(chat.id),
        language=language,
        private=chat.type == "private",
        name=user.full_name if user else "",
    )


def _router(context: ContextTypes.DEFAULT_TYPE) -> Router:
    router: Router = context.application.bot_data[ROUTER_KEY]
    return router


def _messenger(context: ContextTypes.DEFAULT_TYPE) -> TelegramMessenger:
    messenger: TelegramMessenger = context.application.bot_data[MESSENGER_KEY]
    return messenger


async def _route(update: Update, context: ContextTypes.DEFAULT_TYPE, event: Inbound) -> None:
    """Hand the event to the router; show what it says; queue the replies."""
    messenger = _messenger(context)
    reaction = await _router(context).handle(event, messenger)
    query = update.callback_query
    if query is not None:
        if not reaction.answer:
            return
        await query.answer(reaction.notice)
        await _edit(query.message, messenger, reaction)
    elif reaction.clear_choices_of is not None and update.effective_chat is not None:
        await messenger.edit(
            str(update.effective_chat.id), reaction.clear_choices_of, _NO_CHOICES, choices_only=True
        )
    _router(context).deliver(messenger, reaction)


async def _edit(message: object, messenger: TelegramMessenger, reaction: Reaction) -> None:
    """Change the pressed message as the router asked (an inaccessible one is left alone)."""
    if reaction.edit is None or not isinstance(message, Message):
        return
    await messenger.edit(
        str(message.chat_id),
        str(message.message_id),
        reaction.edit.view,
        choices_only=reaction.edit.choices_only,
        caption=bool(message.photo),
    )


def _command(message: Message) -> tuple[str, tuple[str, ...]]:
    """`/name@bot arg1 arg2` → ("name", ("arg1", "arg2"))."""
    head, *args = (message.text or "").split()
    return head[1:].split("@", 1)[0].lower(), tuple(args)


async def citizen_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start, /help, /stop, /language, /status."""
    message = update.effective_message
    assert message is not None
    name, args = _command(message)
    chat = _chat(update)
    event: Inbound = (
        Start(chat, args[0] if args else None) if name == "start" else Command(chat, name, args)
    )
    await _route(update, context, event)


async def module_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other command: an admin or head command, /cancel, or the help."""
    message = update.effective_message
    assert message is not None
    name, args = _command(message)
    # Everyone's commands addressed to another bot (`/stop@otherbot`) only get the help.
    await _route(
        update, context, Command(_chat(update), "" if name in CITIZEN_COMMANDS else name, args)
    )


async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any button under a message of ours."""
    query = update.callback_query
    assert query is not None
    message = query.message
    message_id = str(message.message_id) if isinstance(message, Message) else None
    await _route(update, context, Press(_chat(update), query.data or "", message_id))


async def contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A shared phone number (the citizen's own, or someone else's contact card)."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and message.contact is not None
    own = user is not None and message.contact.user_id == user.id
    event = SharedPhone(_chat(update), message.contact.phone_number, own=own)
    await _route(update, context, event)


async def text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Typed text in a private chat."""
    message = update.effective_message
    assert message is not None
    await _route(update, context, Text(_chat(update), message.text or ""))


async def other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice, and text in groups."""
    if update.effective_message is not None:
        await _route(update, context, Media(_chat(update)))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure; tell the citizen to retry instead of staying silent."""
    log.error("update failed", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        reply = say("vi", "busy")
        try:
            if update.callback_query is not None:
                await update.callback_query.answer(reply)
            else:
                await context.bot.send_message(update.effective_chat.id, reply)
        except TelegramError:
            log.warning("could not tell the chat about the failure")


def register(application: Application, router: Router, messenger: TelegramMessenger) -> None:
    """Route every update of the application through the router."""
    application.bot_data[ROUTER_KEY] = router
    application.bot_data[MESSENGER_KEY] = messenger
    application.add_handler(CommandHandler(list(CITIZEN_COMMANDS), citizen_command))
    application.add_handler(CallbackQueryHandler(press))
    application.add_handler(MessageHandler(filters.CONTACT, contact))
    application.add_handler(MessageHandler(filters.COMMAND, module_command))
    application.add_handler(MessageHandler(filters.TEXT & filters.ChatType.PRIVATE, text))
    application.add_handler(MessageHandler(filters.ALL, other))
    application.add_error_handler(on_error)
