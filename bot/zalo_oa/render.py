"""A neutral `MessageView` as Zalo OA customer-service `message` objects (pure, no I/O).

One view can become several CS messages, sent in order:
- text over 2,000 characters is cut at line breaks; the choices go with the last piece, as up
  to five `oa.query.hide` buttons whose payload is `TAP_PREFIX` + the choice's action (a tap
  comes back as a `user_send_text` of that payload);
- a picture is a `media` template naming an uploaded image (the channel uploads it first) with
  the text as its caption when there are no choices, else the text follows it;
- a phone request is the text (if any) then a `request_user_info` template, which Zalo shows
  with no text of its own.
"""

from __future__ import annotations

from typing import Any

from bot.channels.base import Choice, MessageView
from bot.channels.pieces import split_text
from bot.zalo_oa import TAP_PREFIX

TEXT_LIMIT = 2000
MAX_BUTTONS = 5
TITLE_LIMIT = 100
PAYLOAD_LIMIT = 1000
INFO_TITLE_LIMIT = 100
INFO_SUBTITLE_LIMIT = 500

CSMessage = dict[str, Any]


class RenderError(ValueError):
    """The view cannot be shown on the OA (more than five choices, an overlong action)."""


def text_message(text: str) -> CSMessage:
    return {"text": text}


def button(choice: Choice) -> dict[str, str]:
    payload = TAP_PREFIX + choice.action
    if len(payload) > PAYLOAD_LIMIT:
        raise RenderError(f"a choice's action is over {PAYLOAD_LIMIT - len(TAP_PREFIX)} chars")
    return {"title": choice.label[:TITLE_LIMIT], "type": "oa.query.hide", "payload": payload}


def buttons_message(text: str, choices: list[Choice]) -> CSMessage:
    """Text with up to five query buttons (a message with buttons needs a text)."""
    if len(choices) > MAX_BUTTONS:
        raise RenderError(f"{len(choices)} choices: an OA message carries at most {MAX_BUTTONS}")
    return {
        "text": text,
        "attachment": {
            "type": "template",
            "payload": {"buttons": [button(choice) for choice in choices]},
        },
    }


def image_message(attachment_id: str, caption: str = "") -> CSMessage:
    message: CSMessage = {
        "attachment": {
            "type": "template",
            "payload": {
                "template_type": "media",
                "elements": [{"media_type": "image", "attachment_id": attachment_id}],
            },
        }
    }
    if caption:
        message["text"] = caption
    return message


def phone_request(title: str, subtitle: str, image_url: str) -> CSMessage:
    """The form that asks the user to share their name and phone."""
    return {
        "attachment": {
            "type": "template",
            "payload": {
                "template_type": "request_user_info",
                "elements": [
                    {
                        "title": title[:INFO_TITLE_LIMIT],
                        "subtitle": (subtitle or title)[:INFO_SUBTITLE_LIMIT],
                        "image_url": image_url,
                    }
                ],
            },
        }
    }


class CSRenderer:
    """Renders views for one OA; `phone_image_url` is the picture of the phone request
    (the composition root passes `{public_url}/zalo/share-phone.png`)."""

    def __init__(self, *, phone_image_url: str) -> None:
        self._phone_image_url = phone_image_url

    def messages(self, view: MessageView, *, attachment_id: str | None = None) -> list[CSMessage]:
        """The CS messages of a view, in sending order ([] for an empty view). A view with a
        picture needs the `attachment_id` of its uploaded image."""
        choices = view.flat_choices()
        out: list[CSMessage] = []
        text = view.text if view.text.strip() else ""
        if view.picture is not None:
            if attachment_id is None:
                raise RenderError("a picture must be uploaded before it is rendered")
            caption = text if text and not choices and len(text) <= TEXT_LIMIT else ""
            out.append(image_message(attachment_id, caption))
            if caption:
                text = ""
        if text or choices:
            pieces = split_text(text, TEXT_LIMIT) if text else ["…"]
            out += [text_message(piece) for piece in pieces[:-1]]
            last = pieces[-1]
            out.append(buttons_message(last, choices) if choices else text_message(last))
        if view.ask_phone:
            out.append(phone_request(view.ask_phone, view.ask_phone_note, self._phone_image_url))
        return out
