"""The Zalo Bot Platform channel: updates in (webhook or `getUpdates` polling), text out.

`client` calls the Bot Platform (`POST {base}{token}/{method}`); `events` reads an update into
a neutral inbound event; `channel` is the `Channel` the outbox and the router send through,
with the lifecycle (token check, webhook or polling) and the webhook handler that stores each
update first (`bot.channels.inbox`) and acts on it afterwards; `webhook` is the route
`POST /zalo/bot/webhook`. The platform has no buttons: choices go out as numbered lines and
come back typed.
"""

from __future__ import annotations

CHANNEL = "zalo_bot"
