"""`POST /telegram/webhook`: the route the Telegram adapter adds to the service.

The route exists whatever the mode (routes are fixed before the service starts); it answers
404 while the channel is off and hands every request to the running channel otherwise, which
checks the secret header and queues the update.
"""

from __future__ import annotations

from aiohttp import web

from bot.telegram.channel import WEBHOOK_PATH, TelegramChannel
from bot.web.responses import error

# The running channel, set when it starts (absent while TELEGRAM_BOT_TOKEN is empty).
CHANNEL = web.AppKey("telegram", TelegramChannel)

routes = web.RouteTableDef()


@routes.post(WEBHOOK_PATH)
async def telegram_webhook(request: web.Request) -> web.Response:
    """Updates pushed by Telegram in webhook mode."""
    channel = request.app.get(CHANNEL)
    if channel is None:
        return error(404, "the Telegram channel is not in webhook mode")
    return await channel.webhook(request)


def install(app: web.Application) -> None:
    """Add the webhook route to the service."""
    app.add_routes(routes)
