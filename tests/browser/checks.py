"""Accessibility and weight checks run inside a page: what the browser computed (styles, boxes,
labels), read back as plain values, and the WCAG arithmetic on them.

Contrast follows WCAG 2.x: relative luminance of sRGB colours, ratio (L1 + 0.05) / (L2 + 0.05);
AA asks ≥ 4.5 for body text and ≥ 3 for large text (≥ 24 px, or ≥ 18.66 px and bold) and for
focus indicators. A text's background is the first opaque background up its ancestors (the
pages use flat colours only), white when there is none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.async_api import Page

BODY_TEXT = 4.5
LARGE_TEXT = 3.0
NON_TEXT = 3.0
TOUCH = 44.0

# Every visible element with text of its own: its colours and type as computed.
TEXT_STYLES_JS = """
() => {
  const visible = (el) => el.getClientRects().length > 0 &&
    getComputedStyle(el).visibility !== "hidden";
  const background = (el) => {
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const value = getComputedStyle(node).backgroundColor;
      if (!/^rgba\\(.*,\\s*0\\)$/.test(value) && value !== "transparent") return value;
    }
    return "rgb(255, 255, 255)";
  };
  const found = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (["SCRIPT", "STYLE"].includes(el.tagName) || !visible(el)) continue;
    const own = Array.from(el.childNodes)
      .filter((n) => n.nodeType === 3).map((n) => n.textContent).join("").trim();
    if (!own) continue;
    const style = getComputedStyle(el);
    found.push({
      element: el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
        (el.className ? "." + String(el.className).replace(/ /g, ".") : ""),
      text: own.slice(0, 40),
      color: style.color,
      background: background(el),
      size: parseFloat(style.fontSize),
      weight: parseInt(style.fontWeight, 10),
    });
  }
  return found;
}
"""

# Every form control a person fills in, and how it is labelled and grouped.
CONTROLS_JS = """
() => Array.from(document.querySelectorAll(
    "form input:not([type=hidden]), form textarea, form select"))
  .filter((el) => el.getClientRects().length > 0)
  .map((el) => {
    const fieldset = el.closest("fieldset");
    const legend = fieldset && fieldset.querySelector(":scope > legend");
    const group = el.closest("[role=radiogroup]");
    return {
      id: el.id,
      type: el.type,
      name: el.name,
      labels: Array.from(el.labels || []).map((l) => l.textContent.trim()),
      group: fieldset ? fieldset.id : null,
      legend: legend ? legend.textContent.trim() : "",
      radiogroup: group ? (group.getAttribute("aria-label") ||
        group.getAttribute("aria-labelledby") || "") : null,
    };
  })
"""

# The boxes of the things a finger taps: the options' labels, buttons and links.
TARGETS_JS = """
(selector) => Array.from(document.querySelectorAll(selector))
  .filter((el) => el.getClientRects().length > 0)
  .map((el) => {
    const box = el.getBoundingClientRect();
    return {element: el.id || el.getAttribute("for") || el.textContent.trim().slice(0, 30),
            width: box.width, height: box.height};
  })
"""


def _channels(css: str) -> tuple[float, float, float, float]:
    found = re.findall(r"[\d.]+", css)
    assert len(found) >= 3, css
    alpha = float(found[3]) if len(found) > 3 else 1.0
    return float(found[0]), float(found[1]), float(found[2]), alpha


def _luminance(rgb: tuple[float, float, float]) -> float:
    def linear(channel: float) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _opaque(css: str) -> tuple[float, float, float]:
    """A computed colour laid over white (an opaque one is itself)."""
    r, g, b, alpha = _channels(css)

    def over_white(channel: float) -> float:
        return alpha * channel + (1 - alpha) * 255

    return over_white(r), over_white(g), over_white(b)


def contrast(foreground: str, background: str) -> float:
    """The WCAG contrast ratio of two computed CSS colours (`rgb(…)` / `rgba(…)`)."""
    lighter, darker = sorted(
        (_luminance(_opaque(foreground)), _luminance(_opaque(background))), reverse=True
    )
    return (lighter + 0.05) / (darker + 0.05)


@dataclass(frozen=True, slots=True)
class TextStyle:
    element: str
    text: str
    ratio: float
    large: bool

    @property
    def needed(self) -> float:
        return LARGE_TEXT if self.large else BODY_TEXT


async def text_styles(page: Page) -> list[TextStyle]:
    """Every visible text of the page with its contrast ratio and whether it is large."""
    found: list[dict[str, Any]] = await page.evaluate(TEXT_STYLES_JS)
    return [
        TextStyle(
            element=item["element"],
            text=item["text"],
            ratio=contrast(item["color"], item["background"]),
            large=item["size"] >= 24 or (item["size"] >= 18.66 and item["weight"] >= 700),
        )
        for item in found
    ]


async def low_contrast(page: Page) -> list[str]:
    """The texts below AA contrast ("" list when all pass), for an assertion message."""
    styles = await text_styles(page)
    assert styles, "no visible text found"
    return [
        f"{s.element} {s.text!r}: {s.ratio:.2f} < {s.needed}" for s in styles if s.ratio < s.needed
    ]


async def controls(page: Page) -> list[dict[str, Any]]:
    """The visible form controls with their labels and groups."""
    found: list[dict[str, Any]] = await page.evaluate(CONTROLS_JS)
    return found


async def small_targets(page: Page, selector: str) -> tuple[int, list[str]]:
    """How many visible elements match, and those smaller than 44×44 CSS px."""
    found: list[dict[str, Any]] = await page.evaluate(TARGETS_JS, selector)
    small = [
        f"{t['element']}: {t['width']:.0f}×{t['height']:.0f}"
        for t in found
        if t["width"] < TOUCH or t["height"] < TOUCH
    ]
    return len(found), small
