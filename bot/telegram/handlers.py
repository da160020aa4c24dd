"""Thin python-telegram-bot handlers: parse the update, call the survey service, show results."""

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

from bot.heads.service import AlertService
from bot.survey.service import ChatRef, SurveyService
from bot.telegram.render import answered_text, parse_press, question_keyboard
from bot.telegram.sender import CHANNEL
from bot.texts import chat_text, head_text

log = logging.getLogger(__name__)
SERVICE_KEY = "survey_service"
ALERTS_KEY = "alert_service"


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


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Link the case behind /start <payload>, or welcome."""
    if _private(update):
        await _service(context).on_start(_chat(update), context.args[0] if context.args else None)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Explain the commands."""
    await _service(context).on_help(_chat(update))


async def stop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Opt out of everything."""
    await _service(context).on_stop(_chat(update))


async def language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Switch between Vietnamese and English."""
    await _service(context).on_language(_chat(update), context.args[0] if context.args else None)


async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show a linked case's state."""
    await _service(context).on_status(_chat(update), " ".join(context.args or []) or None)


async def alert_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A head pressed Đã tiếp nhận / Đã xử lý under an alert."""
    query = update.callback_query
    assert query is not None
    _, alert_id, action = (query.data or "k:0:x").split(":", 2)
    alerts: AlertService = context.application.bot_data[ALERTS_KEY]
    chat = _chat(update)
    notice = await alerts.on_alert_press(chat, int(alert_id), action)
    if notice == "ask_note_sent":
        await query.answer()
    else:
        await query.answer(head_text(chat.language, notice))


async def follow_up_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The citizen answered whether the handled complaint satisfied them."""
    query = update.callback_query
    assert query is not None
    _, alert_id, answer = (query.data or "f:0:n").split(":", 2)
    alerts: AlertService = context.application.bot_data[ALERTS_KEY]
    chat = _chat(update)
    notice = await alerts.on_follow_up(chat, int(alert_id), answer == "y")
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
        await query.answer()
        return
    survey_id, code, value = parsed
    result = await _service(context).on_press(_chat(update), survey_id, code, value)
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
    await _service(context).on_contact(_chat(update), message.contact.phone_number, own=own)


async def text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Take a typed answer; clear the buttons (skip) of the question it answered."""
    message = update.effective_message
    assert message is not None
    result = await _service(context).on_text(_chat(update), message.text or "")
    if result is None or result.prompt_message_id is None:
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
    application: Application, service: SurveyService, alerts: AlertService | None = None
) -> None:
    application.bot_data[SERVICE_KEY] = service
    if alerts is not None:
        application.bot_data[ALERTS_KEY] = alerts
        application.add_handler(CallbackQueryHandler(alert_press, pattern=r"^k:\d+:[ad]$"))
        application.add_handler(CallbackQueryHandler(follow_up_press, pattern=r"^f:\d+:[yn]$"))
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("help", help_command))
    application.add_handler(CommandHandler("stop", stop))
    application.add_handler(CommandHandler("language", language))
    application.add_handler(CommandHandler("status", status))
    application.add_handler(CallbackQueryHandler(press))
    application.add_handler(MessageHandler(filters.CONTACT, contact))
    application.add_handler(MessageHandler(filters.COMMAND, unknown_command))
    application.add_handler(MessageHandler(filters.TEXT & filters.ChatType.PRIVATE, text))
    application.add_handler(MessageHandler(filters.ALL, other))
    application.add_error_handler(on_error)
