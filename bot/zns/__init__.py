"""ZNS (Zalo Notification Service): approved template messages sent to a citizen's phone.

Send only: `client` calls the ZNS API with the OA's access token; `templates` names the
approved templates (`ZALO_ZNS_TEMPLATES`) and fills their parameters from a case; `sender` is
the outbox dispatcher's `Sender` for channel "zns"; `route` decides which cases go by ZNS and
puts messages on it; `service` puts them together for the composition root. The citizen's stars
come back through the OA webhook and a poll (`ratings`, `poll`).

A ZNS "chat" is one `chats` row per case (`external_id = "case:<code>"`), never the phone:
the number is opened from the sealed contact (bot/contacts.py) only at send time.
"""

from __future__ import annotations

CHANNEL = "zns"
# The `chats.external_id` of a case's ZNS chat.
CASE_PREFIX = "case:"


def case_chat_id(case_code: str) -> str:
    """The ZNS chat's `external_id` for a case."""
    return f"{CASE_PREFIX}{case_code}"


def case_of(external_id: str) -> str | None:
    """The case code behind a ZNS chat's `external_id` (None for anything else)."""
    if not external_id.startswith(CASE_PREFIX):
        return None
    code = external_id[len(CASE_PREFIX) :]
    return code or None
