"""The Zalo Official Account channel: webhook events in, customer-service messages out.

`signature` checks `X-ZEvent-Signature`; `events` reads an event into a neutral inbound event;
`webhook` stores it first and answers at once; `inbox` acts on stored events in order; `client`
calls the OA API; `tokens` keeps the rotating token pair; `render` turns a neutral view into a
CS message; `channel` is the `Channel` the outbox and the router send through.
"""

from __future__ import annotations

CHANNEL = "zalo_oa"
# A button tap comes back as an ordinary `user_send_text` whose text is the button's payload:
# this prefix tells our taps from typing.
TAP_PREFIX = "#sv "
