"""`POST /zalo/bot/webhook`: the route the Zalo Bot adapter adds to the service.

The route exists whatever the configuration (routes are fixed before the service starts); it
answers 404 while the channel is off and hands every request to the running channel otherwise,
which checks `X-Bot-Api-Secret-Token` and stores the update.
"""

from __future__ import annotations

from aiohttp import web

from bot.web.responses import error
from bot.zalo_bot.channel import WEBHOOK_PATH, ZaloBotChannel

# The running channel, set when it starts (absent while ZALO_BOT_TOKEN is empty).
CHANNEL = web.AppKey("zalo_bot", ZaloBotChannel)

routes = web.RouteTableDef()


@routes.post(WEBHOOK_PATH)
async def zalo_bot_webhook(request: web.Request) -> web.Response:
    """Updates pushed by the Zalo Bot Platform in webhook mode."""
    channel = request.app.get(CHANNEL)
    if channel is None:
        return error(404, "the Zalo Bot channel is off")
    return await channel.webhook(request)


def install(app: web.Application) -> None:
    """Add the webhook route to the service."""
    app.add_routes(routes)
