"""The web survey behind the receipt's link, used as a citizen uses it: tapped through on a
phone in Chromium, with and without JavaScript, in Vietnamese and in English, checked for
accessibility (labels, groups, contrast, touch targets, keyboard) and weight (under 50 KB, no
request to any other origin). The HTTP contract itself is tests/integration/test_web_survey.py.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from bot.onestop.links import format_link_code
from tests.browser.checks import NON_TEXT, contrast, controls, low_contrast, small_targets
from tests.browser.conftest import CASE, Phones, Site, open_site
from tests.fakes.zalo_oa_api import DEFAULT_OA_ID, DEFAULT_OA_SECRET_KEY, FakeZaloOA

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page

pytestmark = pytest.mark.browser

# Every question of the built-in short form but the comment, answered well, as option ids.
HIGH = (
    "q_F1-4",
    "q_F2-5",
    "q_F3-4",
    "q_F4-5",
    "q_F5-4",
    "q_OVERALL-5",
    "q_MONEY-n",
    "q_HARASS-n",
    "q_ONTIME-y",
    "q_EXPECT-E1",
    "q_EXPECT-E3",
)
COMMENT = "Cán bộ nhiệt tình, hướng dẫn rõ ràng."
# What Tab visits on a fresh form: the language switch, each radio group once (its first
# radio, none being checked), every checkbox, the comment, the button — never a hidden "why?".
TAB_ORDER = [
    "lang",
    *(f"q_{code}-1" for code in ("F1", "F2", "F3", "F4", "F5", "OVERALL")),
    *(f"q_{code}-y" for code in ("MONEY", "HARASS", "ONTIME")),
    *(f"q_EXPECT-E{i}" for i in range(1, 9)),
    "q_COMMENT",
    "send",
]


def by_id(page: Page, ident: str) -> Locator:
    """An element by id (the questions' ids hold dots, which `#…` selectors would need escaped)."""
    return page.locator(f'[id="{ident}"]')


async def tap(page: Page, *options: str) -> None:
    """Tap each option's label, as a finger does."""
    for option in options:
        await page.locator(f'label[for="{option}"]').tap()


async def checked(page: Page, option: str) -> bool:
    return await by_id(page, option).is_checked()


async def focused(page: Page) -> str:
    return str(await page.evaluate("document.activeElement ? document.activeElement.id : ''"))


def choices(answer: dict[str, Any]) -> list[str]:
    value = answer["choices"]
    return list(json.loads(value) if isinstance(value, str) else value)


# -- 1, 2: the whole survey, with and without JavaScript --------------------------------------


async def test_tapping_through_with_script_reveals_why_at_once(site: Site, phones: Phones) -> None:
    address = await site.case_at_survey()
    page = await phones.open(address)
    await phones.shot(page, "form")
    why = by_id(page, "f_F2.WHY")
    assert not await why.is_visible()
    await tap(page, "q_F1-4", "q_F2-2")
    # the low answer shows its "why?" question at once, in the page, enabled
    assert await why.is_visible()
    assert await by_id(page, "q_F2.WHY-R2").is_enabled()
    await phones.shot(page, "why-shown")
    # a low answer taken back hides its "why?" again
    await tap(page, "q_F1-1")
    assert await by_id(page, "f_F1.WHY").is_visible()
    await tap(page, "q_F1-4")
    assert not await by_id(page, "f_F1.WHY").is_visible()
    await tap(page, "q_F2.WHY-R2", *HIGH[2:])
    await page.locator("#q_COMMENT").fill(COMMENT)
    await phones.shot(page, "filled")
    await page.locator("#send").tap()
    await page.locator("#thanks").wait_for()
    assert page.url == address
    assert "Cảm ơn Ông/Bà" in await page.locator("h1").inner_text()
    await phones.shot(page, "thanks")
    assert await site.survey() == {"status": "completed", "answers": 12}
    stored = await site.answers()
    assert stored["F2"]["value_int"] == 2 and choices(stored["F2.WHY"]) == ["R2"]
    assert stored["F1"]["value_int"] == 4 and "F1.WHY" not in stored
    assert choices(stored["EXPECT"]) == ["E1", "E3"]
    assert stored["COMMENT"]["value_text"] == COMMENT
    assert {a["source"] for a in stored.values()} == {"web"}


async def test_without_script_the_why_question_is_a_second_step(site: Site, phones: Phones) -> None:
    address = await site.case_at_survey()
    page = await phones.open(address, js=False)
    assert await page.locator("script").count() == 1  # sent, but not run
    await tap(page, "q_F1-4", "q_F2-1", *HIGH[2:])
    assert await checked(page, "q_F2-1")  # labels work without any script
    assert not await by_id(page, "f_F2.WHY").is_visible()
    await page.locator("#q_COMMENT").fill(COMMENT)
    await phones.shot(page, "filled")
    await page.locator("#send").tap()
    why = by_id(page, "f_F2.WHY")
    await why.wait_for()
    # only the "why?" question is asked now; nothing is recorded yet
    assert await page.locator('fieldset[id="f_F1"]').count() == 0
    assert await site.survey() == {"status": "none", "answers": 0}
    await phones.shot(page, "second-step")
    await tap(page, "q_F2.WHY-R4")
    await page.locator("#send").tap()
    await page.locator("#thanks").wait_for()
    await phones.shot(page, "thanks")
    assert await site.survey() == {"status": "completed", "answers": 12}
    stored = await site.answers()
    assert stored["F2"]["value_int"] == 1 and choices(stored["F2.WHY"]) == ["R4"]
    assert stored["COMMENT"]["value_text"] == COMMENT


# -- 3: a missing answer ----------------------------------------------------------------------


async def test_a_missing_answer_comes_back_marked_with_the_values_kept(
    site: Site, phones: Phones
) -> None:
    address = await site.case_at_survey()
    page = await phones.open(address)
    await tap(page, *(o for o in HIGH if not o.startswith(("q_F2-", "q_HARASS-"))))
    await page.locator("#q_COMMENT").fill(COMMENT)
    async with page.expect_response(lambda r: r.request.method == "POST") as posted:
        await page.locator("#send").tap()
    assert (await posted.value).status == 200
    problems = page.locator("#problems")
    await problems.wait_for()
    await phones.shot(page, "problems")
    assert await problems.get_attribute("role") == "alert"
    assert "Còn 2 câu bắt buộc" in await problems.inner_text()
    # the summary is read first, in the first screen
    box = await problems.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 740
    for code in ("F2", "HARASS"):
        error = by_id(page, f"e_{code}")
        assert await error.inner_text() == "Vui lòng trả lời câu hỏi này."
        # the error sits inside its question and is its description
        assert await by_id(page, f"f_{code}").get_attribute("aria-describedby") == f"e_{code}"
        assert await by_id(page, f"f_{code}").locator(f'[id="e_{code}"]').count() == 1
    assert await by_id(page, "e_F1").count() == 0
    # what was given is kept
    assert await checked(page, "q_F1-4") and not await checked(page, "q_F1-3")
    assert await checked(page, "q_EXPECT-E1") and await checked(page, "q_EXPECT-E3")
    assert await page.locator("#q_COMMENT").input_value() == COMMENT
    # the marked question is reachable: focusing it scrolls it into view, Space answers it
    await by_id(page, "q_F2-1").focus()
    assert await by_id(page, "e_F2").is_visible()
    assert await by_id(page, "f_F2").evaluate(
        "el => { const b = el.getBoundingClientRect();"
        " return b.bottom > 0 && b.top < window.innerHeight; }"
    )
    await page.keyboard.press("ArrowRight")
    await page.keyboard.press("ArrowRight")
    await page.keyboard.press("ArrowRight")
    assert await checked(page, "q_F2-4")
    await phones.shot(page, "fixed-by-keyboard")
    await tap(page, "q_HARASS-n")
    await page.locator("#send").tap()
    await page.locator("#thanks").wait_for()
    assert await site.survey() == {"status": "completed", "answers": 11}


# -- 4: before the survey status --------------------------------------------------------------


async def test_the_case_page_shows_the_link_code_large_and_the_zalo_link(
    migrated_url: str, phones: Phones
) -> None:
    async with FakeZaloOA() as fake:
        zalo = {
            "zalo_oa_id": DEFAULT_OA_ID,
            "zalo_oa_secret_key": DEFAULT_OA_SECRET_KEY,
            "zalo_oa_api_base_url": fake.url,
            "zalo_oauth_base_url": fake.url,
        }
        async with open_site(migrated_url, **zalo) as site:
            receipt = await site.deliver(TrangThaiHoSo=4)
            page = await phones.open(site.url(receipt["links"]["web"]))
            await phones.shot(page, "case")
            assert CASE in await page.locator("#case").inner_text()
            assert "Đang xử lý" in await page.locator("#case").inner_text()
            assert await page.locator("#survey").count() == 0
            code = page.locator("#link-code")
            assert await code.inner_text() == format_link_code(receipt["link_code"])
            size = await code.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
            assert size >= 32, size  # large type, copied by eye into a chat
            assert await code.is_visible()
            zalo_link = page.locator("#zalo")
            assert await zalo_link.get_attribute("href") == f"https://zalo.me/{DEFAULT_OA_ID}"
            assert await zalo_link.inner_text() == "Mở Zalo OA của cơ quan"
            assert await low_contrast(page) == []
            count, small = await small_targets(page, "#zalo, #lang")
            assert count == 2 and small == []
            # in English too
            await page.locator("#lang").tap()
            await page.wait_for_url("**?lang=en")
            assert await page.locator("#link-code").inner_text() == await code.inner_text()
            assert await page.locator("#zalo").inner_text() == "Open the agency's Zalo OA"
            await phones.shot(page, "case-en")


# -- 5: English -------------------------------------------------------------------------------


async def test_the_english_switch(site: Site, phones: Phones) -> None:
    address = await site.case_at_survey()
    page = await phones.open(address)
    switch = page.locator("#lang")
    assert await switch.inner_text() == "English"
    assert await switch.get_attribute("lang") == "en"
    await switch.tap()
    await page.wait_for_url(address + "?lang=en")
    assert await page.locator("html").get_attribute("lang") == "en"
    assert await page.locator("h1").inner_text() == "Tell us how you were served"
    assert "Very satisfied" in await page.locator('label[for="q_F1-5"]').inner_text()
    assert await page.locator("#send").inner_text() == "Send"
    assert await page.locator("#lang").inner_text() == "Tiếng Việt"
    await phones.shot(page, "form-en")
    await tap(page, *HIGH)
    await page.locator("#send").tap()
    await page.locator("#thanks").wait_for()
    assert page.url == address + "?lang=en"
    assert await page.locator("h1").inner_text() == "Thank you"
    await phones.shot(page, "thanks-en")
    await page.locator("#lang").tap()
    await page.wait_for_url(address + "?lang=vi")
    assert await page.locator("h1").inner_text() == "Cảm ơn Ông/Bà"
    assert await site.survey() == {"status": "completed", "answers": 10}


# -- 6: accessibility -------------------------------------------------------------------------


async def test_the_form_is_accessible(site: Site, phones: Phones) -> None:
    page = await phones.open(await site.case_at_survey())
    # every control has a label; every radio is in a fieldset with a legend (or a named group)
    found = await controls(page)
    assert len(found) == 6 * 5 + 3 * 2 + 8 + 1
    for control in found:
        assert control["labels"] and all(control["labels"]), control
        if control["type"] == "radio":
            assert control["legend"] or control["radiogroup"], control
    radios: dict[str, set[str | None]] = {}
    for control in found:
        if control["type"] == "radio":
            radios.setdefault(control["name"], set()).add(control["group"])
    assert all(len(groups) == 1 for groups in radios.values()), radios
    # the browser's accessibility tree names them so
    assert await page.get_by_role("radio", name="1 – Rất không hài lòng", exact=True).count() == 6
    assert await page.get_by_role("group").count() == 10  # the hidden "why?" are left out
    assert await page.get_by_role("group", name="7. Ông/Bà có bị yêu cầu nộp thêm tiền").count()
    assert await page.get_by_role("textbox", name=re.compile("góp ý")).count() == 1
    assert await page.get_by_role("button", name="Gửi đánh giá", exact=True).count() == 1
    # touch targets: every option, the button, the language switch
    count, small = await small_targets(page, ".o label, #send, #lang")
    assert count == len(found) - 1 + 2 and small == []
    # keyboard: Tab reaches every question (once per radio group) and the button
    visited = []
    for _ in range(len(TAB_ORDER)):
        await page.keyboard.press("Tab")
        visited.append(await focused(page))
    assert visited == TAB_ORDER
    outline = await page.evaluate("getComputedStyle(document.activeElement).outlineColor")
    assert contrast(outline, "rgb(255, 255, 255)") >= NON_TEXT
    # Space selects a radio, arrows move the choice (and a low one reveals its "why?")
    await by_id(page, "q_F1-1").focus()
    await page.keyboard.press("Space")
    assert await checked(page, "q_F1-1") and await by_id(page, "f_F1.WHY").is_visible()
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("ArrowDown")
    assert await checked(page, "q_F1-3") and not await checked(page, "q_F1-1")
    assert not await by_id(page, "f_F1.WHY").is_visible()
    await page.keyboard.press("ArrowUp")
    assert await checked(page, "q_F1-2") and await by_id(page, "f_F1.WHY").is_visible()
    await page.keyboard.press("Tab")
    assert await focused(page) == "q_F1.WHY-R1"  # the revealed question is next
    await page.keyboard.press("Space")
    assert await checked(page, "q_F1.WHY-R1")
    await phones.shot(page, "keyboard")
    # Enter on the button submits (the rest unanswered: the form comes back, marked)
    await page.locator("#send").focus()
    async with page.expect_response(lambda r: r.request.method == "POST") as posted:
        await page.keyboard.press("Enter")
    assert (await posted.value).status == 200
    await page.locator("#problems").wait_for()
    assert await checked(page, "q_F1-2") and await checked(page, "q_F1.WHY-R1")
    await phones.shot(page, "problems")
    # contrast AA of every visible text, errors and hints included
    assert await low_contrast(page) == []


# -- 7: weight --------------------------------------------------------------------------------


async def test_the_page_is_light_and_loads_nothing_from_elsewhere(
    site: Site, phones: Phones
) -> None:
    address = await site.case_at_survey()
    page = await phones.open(address)
    loaded = 0
    async with page.expect_response(address) as first:
        await page.reload()
    response = await first.value
    loaded += len(await response.body())
    css = await page.locator("style").evaluate_all("els => els.map(e => e.textContent).join('')")
    assert loaded < 50_000 and len(css.encode()) < loaded, (loaded, len(css))
    assert await page.evaluate("document.styleSheets.length") == 1  # the inline one only
    # nothing loaded after the document but, at most, the browser's own favicon request
    resources = await page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    assert [r for r in resources if urlsplit(r).path != "/favicon.ico"] == []
    await tap(page, "q_F1-2", "q_F1.WHY-R3", *HIGH[1:])
    await page.locator("#send").tap()
    await page.locator("#thanks").wait_for()
    thanks = await page.content()
    assert len(thanks.encode()) < 50_000
    origins = {f"{urlsplit(u).scheme}://{urlsplit(u).netloc}" for u in phones.requests}
    assert origins == {site.origin}, phones.requests
    await phones.shot(page, "thanks")
