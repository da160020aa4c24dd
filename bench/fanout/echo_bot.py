"""Baseline bot: a minimal python-telegram-bot Application that answers every text at once.

    python -m bench.fanout.echo_bot --base-url http://127.0.0.1:PORT/bot --token 123:ABC

Same poll settings as the product's channel (`bot/telegram/channel.py`: poll_interval 0,
long-poll timeout 10 s, allowed updates message + callback_query); no database, no outbox:
the handler calls sendMessage directly. Its round trip through the fake is the floor the
product's button → next question latency is compared with. Stops on SIGTERM/SIGINT, and by
itself after `--max-seconds`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_message(chat.id, "echo")


async def run(base_url: str, token: str, max_seconds: float) -> None:
    application = Application.builder().token(token).base_url(base_url).build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.bot.delete_webhook()
    await application.updater.start_polling(
        poll_interval=0.0, timeout=10, allowed_updates=["message", "callback_query"]
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), max_seconds)
    await application.updater.stop()
    await application.stop()
    await application.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--max-seconds", type=float, default=600.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(run(args.base_url, args.token, args.max_seconds))


if __name__ == "__main__":
    main()
