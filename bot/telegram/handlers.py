"""Thin python-telegram-bot handlers: parse the update, call the services, show results.

Citizens' commands, answers and buttons go to the survey service (its messages go through the
outbox). Admin and head commands, their buttons and guided conversations go to the command
dispatcher (`bot.commands.dispatch`), whose `Reply` values `bot.telegram.replies` sends.

Every update — command, text, media, sticker, contact, button press — first spends its chat's
budget (`admit`, before anything reads the database): past it the chat gets one warning, then
silence for a while. A survey answer that is recorded gives its unit back. Callback data is
parsed strictly (`bot.telegram.render`): anything the bot did not make, such as an id too large
for the database, gets a polite "no longer valid" and is counted, never looked up.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.commands.base import Caller, PressResult, Reply
from bot.heads.service import AlertService
from bot.services import ChatCommands
from bot.survey.service import ChatRef, SurveyService
from bot.telegram.render import (
    ALERT_PREFIX,
    FOLLOW_UP_PREFIX,
    answered_text,
    parse_alert_press,
    parse_follow_up,
    parse_press,
    question_keyboard,
)
from bot.telegram.replies import MAX_CAPTION, MAX_TEXT, markup, send_in_background, split_text
from bot.telegram.sender import CHANNEL
from bot.texts import chat_text, head_text

log = logging.getLogger(__name__)
SERVICE_KEY = "survey_service"
ALERTS_KEY = "alert_service"
COMMANDS_KEY = "chat_commands"


def _service(context: ContextTypes.DEFAULT_TYPE) -> SurveyService:
    return context.application.bot_data[SERVICE_KEY]


def _chat(update: Update) -> ChatRef:
    user = update.effective_user
    chat = update.effective_chat
    assert chat is not None
    language = (user.language_code or "vi")[:2] if user else "vi"
    return ChatRef(channel=CHANNEL, external_id=str(chat.id), language=language)


def _private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == "private"


def _commands(context: ContextTypes.DEFAULT_TYPE) -> ChatCommands | None:
    found: ChatCommands | None = context.application.bot_data.get(COMMANDS_KEY)
    return found


async def _caller(update: Update, commands: ChatCommands) -> Caller:
    chat = _chat(update)
    user = update.effective_user
    return await commands.access.caller(
        channel=chat.channel,
        external_id=chat.external_id,
        language=chat.language,
        name=user.full_name if user else "",
    )


async def admit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Spend one unit of the chat's budget; past it warn once, then drop the update."""
    commands = _commands(context)
    chat = update.effective_chat
    if commands is None or chat is None:
        return
    verdict = commands.dispatcher.admit(CHANNEL, str(chat.id))
    if verdict == "ok":
        return
    if verdict == "warn":
        caller = await _caller(update, commands)
        warning = commands.dispatcher.flood_reply(caller)
        if update.callback_query is not None:
            await update.callback_query.answer(warning.text[:200])
        else:
            send_replies(context, caller, [warning])
    raise ApplicationHandlerStop


def _refund(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The update was a recorded survey answer: it does not count against the budget."""
    commands = _commands(context)
    if commands is not None and update.effective_chat is not None:
        commands.dispatcher.refund(CHANNEL, str(update.effective_chat.id))


def _refused(context: ContextTypes.DEFAULT_TYPE, reason: str) -> None:
    commands = _commands(context)
    if commands is not None:
        commands.dispatcher.counters.refused(reason)


async def _wired_caller(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Caller | None:
    """The caller when commands are wired (their menus may need refreshing)."""
    commands = _commands(context)
    if commands is None or update.effective_chat is None:
        return None
    return await _caller(update, commands)


def send_replies(
    context: ContextTypes.DEFAULT_TYPE, caller: Caller, replies: Sequence[Reply]
) -> None:
    """Send command replies in the background, in order per chat, within the send limits."""
    commands = _commands(context)
    send_in_background(
        context.application, caller, replies, pace=commands.pace if commands else None
    )


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Link the case behind /start <payload>, or welcome."""
    if not _private(update):
        return
    caller = await _wired_caller(update, context)
    await _service(context).on_start(_chat(update), context.args[0] if context.args else None)
    commands = _commands(context)
    if caller is not None and commands is not None:
        await commands.menus.refresh_if_privileged(caller)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Explain the commands; admins and heads also get the list of their own."""
    caller = await _wired_caller(update, context)
    await _service(context).on_help(_chat(update))
    commands = _commands(context)
    if caller is not None and commands is not None:
        send_replies(context, caller, commands.dispatcher.help(caller))
        await commands.menus.refresh_if_privileged(caller)


async def stop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Opt out of everything."""
    await _service(context).on_stop(_chat(update))


async def language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Switch between Vietnamese and English."""
    await _service(context).on_language(_chat(update), context.args[0] if context.args else None)


async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show a linked case's state."""
    await _service(context).on_status(_chat(update), " ".join(context.args or []) or None)


def _command_name(message: Message) -> tuple[str, list[str]]:
    """`/name@bot arg1 arg2` → ("name", ["arg1", "arg2"])."""
    head, *args = (message.text or "").split()
    return head[1:].split("@", 1)[0].lower(), args


async def module_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An admin or head command (or /cancel) in a private chat; anything else gets the help."""
    message = update.effective_message
    commands = _commands(context)
    if message is None or commands is None or not _private(update):
        await unknown_command(update, context)
        return
    caller = await _caller(update, commands)
    name, args = _command_name(message)
    if not commands.dispatcher.knows(name):
        await _service(context).on_help(_chat(update))
        return
    replies = await commands.dispatcher.command(caller, name, args)
    send_replies(context, caller, replies)


async def module_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button of an admin or head message."""
    query = update.callback_query
    commands = _commands(context)
    assert query is not None and commands is not None
    caller = await _caller(update, commands)
    result: PressResult = await commands.dispatcher.press(caller, query.data or "")
    await query.answer(result.notice[:200] if result.notice else None)
    message = query.message
    if result.edit is not None and isinstance(message, Message):
        try:
            if message.photo:
                await query.edit_message_caption(
                    result.edit.text[:MAX_CAPTION], reply_markup=markup(result.edit)
                )
            else:
                await query.edit_message_text(
                    split_text(result.edit.text, MAX_TEXT)[0], reply_markup=markup(result.edit)
                )
        except TelegramError as exc:
            log.info("could not edit the pressed message", extra={"error": str(exc)})
    if result.replies and update.effective_chat is not None:
        send_replies(context, caller, result.replies)


async def _stale(update: Update, context: ContextTypes.DEFAULT_TYPE, reason: str) -> None:
    """Answer a press the bot cannot honour: politely, counted, nothing looked up."""
    query = update.callback_query
    assert query is not None
    _refused(context, reason)
    await query.answer(chat_text(_chat(update).language, "stale_button"))


async def alert_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A head pressed Đã tiếp nhận / Đã xử lý under an alert."""
    query = update.callback_query
    assert query is not None
    parsed = parse_alert_press(query.data or "")
    if parsed is None:
        await _stale(update, context, "malformed")
        return
    alert_id, action = parsed
    alerts: AlertService = context.application.bot_data[ALERTS_KEY]
    chat = _chat(update)
    notice = await alerts.on_alert_press(chat, alert_id, action)
    if notice == "not_yours":
        _refused(context, "alert")
    if notice == "ask_note_sent":
        await query.answer()
    else:
        await query.answer(head_text(chat.language, notice))


async def follow_up_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The citizen answered whether the handled complaint satisfied them."""
    query = update.callback_query
    assert query is not None
    parsed = parse_follow_up(query.data or "")
    if parsed is None:
        await _stale(update, context, "malformed")
        return
    alert_id, satisfied = parsed
    alerts: AlertService = context.application.bot_data[ALERTS_KEY]
    chat = _chat(update)
    notice = await alerts.on_follow_up(chat, alert_id, satisfied)
    await query.answer(
        head_text(chat.language, notice)
        if notice == "follow_up_thanks"
        else chat_text(chat.language, notice)
    )
    try:
        await query.edit_message_reply_markup(None)
    except TelegramError as exc:
        log.info("could not clear the follow-up buttons", extra={"error": str(exc)})


async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Record a pressed answer button and show the choice in place."""
    query = update.callback_query
    assert query is not None
    parsed = parse_press(query.data or "")
    if parsed is None:
        await _stale(update, context, "malformed")
        return
    survey_id, code, value = parsed
    result = await _service(context).on_press(_chat(update), survey_id, code, value)
    if result.notice == "stale_button":
        _refused(context, "survey")
    if result.answered is not None:
        _refund(update, context)
    await query.answer(chat_text(result.language, result.notice) if result.notice else None)
    try:
        if result.answered is not None and isinstance(query.message, Message):
            question, given = result.answered
            number, total = result.position
            await query.edit_message_text(
                answered_text(question, given, result.language, number=number, total=total)
            )
        elif result.toggled is not None:
            question, picks, _number, _total = result.toggled
            await query.edit_message_reply_markup(
                question_keyboard(survey_id, question, result.language, draft=picks)
            )
    except TelegramError as exc:
        log.warning("could not edit the question message", extra={"error": str(exc)})


async def contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Link the cases filed with the citizen's own shared phone number."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and message.contact is not None
    own = user is not None and message.contact.user_id == user.id
    await _service(context).on_contact(
        _chat(update), message.contact.phone_number, own=own, private=_private(update)
    )


async def text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text for an open admin/head conversation; else a typed survey answer (the buttons of the
    question it answered are cleared) or a head's note."""
    message = update.effective_message
    assert message is not None
    commands = _commands(context)
    if commands is not None:
        caller = await _caller(update, commands)
        replies = await commands.dispatcher.text(caller, message.text or "")
        if replies is not None:
            send_replies(context, caller, replies)
            return
    result = await _service(context).on_text(_chat(update), message.text or "")
    if result is None:
        return
    _refund(update, context)
    if result.prompt_message_id is None:
        return
    try:
        await context.bot.edit_message_reply_markup(
            chat_id=message.chat_id, message_id=int(result.prompt_message_id), reply_markup=None
        )
    except TelegramError as exc:
        log.info("could not edit the prompt", extra={"error": str(exc)})


async def other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice and unknown commands get a short pointer."""
    if update.effective_message is not None and _private(update):
        await _service(context).on_media(_chat(update))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An unknown command: show the help."""
    await _service(context).on_help(_chat(update))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure; tell the citizen to retry instead of staying silent."""
    log.error("update failed", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        reply = chat_text("vi", "busy")
        try:
            if update.callback_query is not None:
                await update.callback_query.answer(reply)
            else:
                await context.bot.send_message(update.effective_chat.id, reply)
        except TelegramError:
            log.warning("could not tell the chat about the failure")


def register(
    application: Application,
    service: SurveyService,
    alerts: AlertService | None = None,
    commands: ChatCommands | None = None,
) -> None:
    application.bot_data[SERVICE_KEY] = service
    application.add_handler(TypeHandler(Update, admit), group=-1)
    if alerts is not None:
        application.bot_data[ALERTS_KEY] = alerts
        application.add_handler(CallbackQueryHandler(alert_press, pattern=f"^{ALERT_PREFIX}:"))
        application.add_handler(
            CallbackQueryHandler(follow_up_press, pattern=f"^{FOLLOW_UP_PREFIX}:")
        )
    if commands is not None:
        application.bot_data[COMMANDS_KEY] = commands
        application.add_handler(
            CallbackQueryHandler(module_press, pattern=commands.dispatcher.owns_callback)
        )
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("help", help_command))
    application.add_handler(CommandHandler("stop", stop))
    application.add_handler(CommandHandler("language", language))
    application.add_handler(CommandHandler("status", status))
    application.add_handler(CallbackQueryHandler(press))
    application.add_handler(MessageHandler(filters.CONTACT, contact))
    application.add_handler(MessageHandler(filters.COMMAND, module_command))
    application.add_handler(MessageHandler(filters.TEXT & filters.ChatType.PRIVATE, text))
    application.add_handler(MessageHandler(filters.ALL, other))
    application.add_error_handler(on_error)
