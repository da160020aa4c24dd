"""Neutral views as Zalo OA customer-service messages: text, buttons, pictures, phone requests."""

from __future__ import annotations

from typing import Any

import pytest

from bot.channels.base import Choice, MessageView
from bot.zalo_oa import TAP_PREFIX
from bot.zalo_oa.render import CSRenderer, RenderError

IMAGE_URL = "https://sipas.example.vn/zalo/share-phone.png"
LEVELS = ["Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng"]


def render(view: MessageView, attachment_id: str | None = None) -> list[dict[str, Any]]:
    return CSRenderer(phone_image_url=IMAGE_URL).messages(view, attachment_id=attachment_id)


def test_a_plain_text_is_one_text_message() -> None:
    assert render(MessageView("Xin chào")) == [{"text": "Xin chào"}]


def test_a_question_carries_five_hidden_query_buttons_with_prefixed_payloads() -> None:
    choices = [Choice(label, f"a:{i}") for i, label in enumerate(LEVELS, 1)]
    view = MessageView("Anh/chị hài lòng không?", choices=[choices[:3], choices[3:]])
    [message] = render(view)
    assert message["text"] == "Anh/chị hài lòng không?"
    assert message["attachment"] == {
        "type": "template",
        "payload": {
            "buttons": [
                {"title": label, "type": "oa.query.hide", "payload": f"{TAP_PREFIX}a:{i}"}
                for i, label in enumerate(LEVELS, 1)
            ]
        },
    }


def test_more_than_five_choices_cannot_be_rendered() -> None:
    view = MessageView("?", choices=[[Choice(str(i), str(i)) for i in range(6)]])
    with pytest.raises(RenderError):
        render(view)


def test_a_long_title_is_cut_to_100_characters_and_an_overlong_action_is_refused() -> None:
    [message] = render(MessageView("?", choices=[[Choice("x" * 150, "a")]]))
    assert message["attachment"]["payload"]["buttons"][0]["title"] == "x" * 100
    with pytest.raises(RenderError):
        render(MessageView("?", choices=[[Choice("ok", "a" * 1000)]]))


def test_a_long_text_is_split_and_the_buttons_go_with_the_last_piece() -> None:
    text = "\n".join(["dòng " + "x" * 95] * 30)  # about 3,000 characters
    messages = render(MessageView(text, choices=[[Choice("Có", "y"), Choice("Không", "n")]]))
    assert len(messages) == 2
    assert all(len(str(m["text"])) <= 2000 for m in messages)
    assert "attachment" not in messages[0]
    assert "\n".join(str(m["text"]) for m in messages) == text
    assert [b["title"] for b in messages[1]["attachment"]["payload"]["buttons"]] == ["Có", "Không"]


def test_a_phone_request_is_the_text_then_a_request_user_info_form() -> None:
    view = MessageView(
        "Để nhận thông báo, xin chia sẻ số điện thoại.",
        ask_phone="Chia sẻ số điện thoại",
        ask_phone_note="Chúng tôi chỉ dùng số này để tìm hồ sơ của anh/chị.",
    )
    text, form = render(view)
    assert text == {"text": "Để nhận thông báo, xin chia sẻ số điện thoại."}
    assert form == {
        "attachment": {
            "type": "template",
            "payload": {
                "template_type": "request_user_info",
                "elements": [
                    {
                        "title": "Chia sẻ số điện thoại",
                        "subtitle": "Chúng tôi chỉ dùng số này để tìm hồ sơ của anh/chị.",
                        "image_url": IMAGE_URL,
                    }
                ],
            },
        }
    }


def test_a_phone_request_without_text_or_note_is_the_form_alone_with_limits_kept() -> None:
    [form] = render(MessageView("", ask_phone="T" * 150, ask_phone_note="n" * 600))
    element = form["attachment"]["payload"]["elements"][0]
    assert (len(element["title"]), len(element["subtitle"])) == (100, 500)
    [form] = render(MessageView("", ask_phone="Chia sẻ số điện thoại"))
    element = form["attachment"]["payload"]["elements"][0]
    assert element["subtitle"] == "Chia sẻ số điện thoại"


def test_a_picture_carries_its_text_as_caption() -> None:
    [message] = render(MessageView("Biểu đồ tháng 9", picture=b"png"), attachment_id="att-1")
    assert message == {
        "text": "Biểu đồ tháng 9",
        "attachment": {
            "type": "template",
            "payload": {
                "template_type": "media",
                "elements": [{"media_type": "image", "attachment_id": "att-1"}],
            },
        },
    }


def test_a_picture_with_choices_or_a_long_text_is_followed_by_the_text() -> None:
    view = MessageView("Xem chi tiết?", picture=b"png", choices=[[Choice("Có", "y")]])
    image, question = render(view, attachment_id="att-2")
    assert "text" not in image
    assert image["attachment"]["payload"]["elements"][0]["attachment_id"] == "att-2"
    assert question["text"] == "Xem chi tiết?" and "buttons" in question["attachment"]["payload"]
    long = MessageView("x" * 2500, picture=b"png")
    messages = render(long, attachment_id="att-3")
    assert "text" not in messages[0] and [len(str(m["text"])) for m in messages[1:]] == [2000, 500]


def test_a_picture_must_be_uploaded_first() -> None:
    with pytest.raises(RenderError):
        render(MessageView("x", picture=b"png"))


def test_an_empty_view_is_no_message_and_buttons_without_text_get_a_placeholder() -> None:
    assert render(MessageView("")) == []
    assert render(MessageView("  ")) == []
    [message] = render(MessageView("", choices=[[Choice("Có", "y")]]))
    assert message["text"]
