"""Telegram text formatting as the Bot API applies it: `parse_mode` → plain text + entities.

Telegram never stores markup: a message sent with `parse_mode="HTML"` comes back with the tags
stripped and an `entities` array whose offsets and lengths count UTF-16 code units. Malformed
markup is refused with `400 Bad Request: can't parse entities: ...`. This module reproduces that
for HTML, MarkdownV2 and legacy Markdown closely enough that a message the fake accepts would be
accepted by Telegram in all common cases (the error texts follow Telegram's wording).
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

PARSE_ERROR = "Bad Request: can't parse entities: "

_ENTITY_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
    "code": "Code",
    "pre": "Pre",
    "custom_emoji": "CustomEmoji",
}


class FormatError(ValueError):
    """Markup Telegram would refuse; `description` is the full Bot API error text."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets and lengths."""
    return len(text.encode("utf-16-le")) // 2


def sort_entities(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Telegram's order: by offset, outer (longer) entities first."""
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def parse_formatted(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and entities for `text` sent with `parse_mode` (None/"" = no parsing)."""
    if not parse_mode:
        return text, []
    mode = parse_mode.strip().lower()
    if mode == "html":
        return _parse_html(text)
    if mode == "markdownv2":
        return _MarkdownV2(text).parse()
    if mode == "markdown":
        return _parse_markdown_legacy(text)
    raise FormatError("Bad Request: unsupported parse_mode")


class _Builder:
    """Accumulates plain text and knows the current UTF-16 offset."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.offset = 0
        self.entities: list[dict[str, Any]] = []

    def append(self, text: str) -> None:
        if text:
            self.parts.append(text)
            self.offset += utf16_len(text)

    def entity(self, kind: str, start: int, **extra: Any) -> None:
        length = self.offset - start
        if length > 0:
            self.entities.append({"offset": start, "length": length, "type": kind, **extra})

    def result(self) -> tuple[str, list[dict[str, Any]]]:
        return "".join(self.parts), sort_entities(self.entities)


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


# --------------------------------------------------------------------------------------- HTML

_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


class _HtmlParser(HTMLParser):
    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.out = _Builder()
        self.stack: list[tuple[str, int, dict[str, str | None]]] = []
        self.error: str | None = None
        self._line_starts = [0]
        for index, char in enumerate(source):
            if char == "\n":
                self._line_starts.append(index + 1)

    def _here(self) -> int:
        line, column = self.getpos()
        return _byte_offset(self.source, self._line_starts[line - 1] + column)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.error:
            return
        attributes = dict(attrs)
        if tag not in _HTML_TAGS or (tag == "span" and attributes.get("class") != "tg-spoiler"):
            self.error = f'Unsupported start tag "{tag}" at byte offset {self._here()}'
            return
        self.stack.append((tag, self.out.offset, attributes))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if not self.error:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.error:
            return
        if not self.stack:
            self.error = f"Unexpected end tag at byte offset {self._here()}"
            return
        open_tag, start, attributes = self.stack[-1]
        if open_tag != tag:
            self.error = (
                f'Unmatched end tag at byte offset {self._here()}, expected "</{open_tag}>", '
                f'found "</{tag}>"'
            )
            return
        self.stack.pop()
        kind = _HTML_TAGS[tag]
        if kind == "text_link":
            href = attributes.get("href")
            if href:
                self.out.entity("text_link", start, url=href)
            return
        if kind == "code" and self.stack and self.stack[-1][0] == "pre":
            css = attributes.get("class") or ""
            if css.startswith("language-"):
                self.stack[-1][2]["__language"] = css.removeprefix("language-")
                return
        if kind == "pre":
            language = attributes.get("__language")
            if language:
                self.out.entity("pre", start, language=language)
            else:
                self.out.entity("pre", start)
            return
        if kind == "blockquote" and "expandable" in attributes:
            self.out.entity("expandable_blockquote", start)
            return
        if kind == "custom_emoji":
            emoji_id = attributes.get("emoji-id")
            if emoji_id:
                self.out.entity("custom_emoji", start, custom_emoji_id=emoji_id)
            return
        self.out.entity(kind, start)

    def handle_data(self, data: str) -> None:
        if not self.error:
            self.out.append(data)


def _parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    parser = _HtmlParser(text)
    parser.feed(text)
    parser.close()
    if parser.error:
        raise FormatError(PARSE_ERROR + parser.error)
    if parser.stack:
        raise FormatError(
            PARSE_ERROR + f'Can\'t find end tag corresponding to start tag "{parser.stack[-1][0]}"'
        )
    return parser.out.result()


# --------------------------------------------------------------------------------- MarkdownV2

_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")


class _MarkdownV2:
    def __init__(self, text: str) -> None:
        self.s = text
        self.out = _Builder()
        # (entity type, utf-16 start offset, byte offset of the opening marker)
        self.stack: list[tuple[str, int, int]] = []
        self.quote_start: int | None = None

    def _fail(self, message: str) -> FormatError:
        return FormatError(PARSE_ERROR + message)

    def _reserved(self, char: str) -> FormatError:
        return self._fail(
            f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
        )

    def _toggle(self, kind: str, index: int) -> None:
        for position in range(len(self.stack) - 1, -1, -1):
            if self.stack[position][0] == kind:
                _, start, _ = self.stack.pop(position)
                self.out.entity(kind, start)
                return
        self.stack.append((kind, self.out.offset, _byte_offset(self.s, index)))

    def parse(self) -> tuple[str, list[dict[str, Any]]]:
        s, n, i = self.s, len(self.s), 0
        while i < n:
            c = s[i]
            at_line_start = i == 0 or s[i - 1] == "\n"
            if c == "\\":
                if i + 1 < n and 1 <= ord(s[i + 1]) <= 126:
                    self.out.append(s[i + 1])
                    i += 2
                    continue
                raise self._reserved("\\")
            if c == "\n" and self.quote_start is not None and not s.startswith(">", i + 1):
                self.out.entity("blockquote", self.quote_start)
                self.quote_start = None
            if c == ">" and at_line_start:
                if self.quote_start is None:
                    self.quote_start = self.out.offset
                i += 1
                continue
            if c == "`":
                i = self._pre(i) if s.startswith("```", i) else self._code(i)
                continue
            if c == "*":
                self._toggle("bold", i)
                i += 1
                continue
            if c == "_":
                if s.startswith("__", i):
                    self._toggle("underline", i)
                    i += 2
                else:
                    self._toggle("italic", i)
                    i += 1
                continue
            if c == "~":
                self._toggle("strikethrough", i)
                i += 1
                continue
            if c == "|" and s.startswith("||", i):
                self._toggle("spoiler", i)
                i += 2
                continue
            if c == "[":
                self.stack.append(("text_link", self.out.offset, _byte_offset(s, i)))
                i += 1
                continue
            if c == "!" and s.startswith("![", i):
                self.stack.append(("custom_emoji", self.out.offset, _byte_offset(s, i)))
                i += 2
                continue
            if c == "]" and self.stack and self.stack[-1][0] in ("text_link", "custom_emoji"):
                i = self._close_link(i)
                continue
            if c in _MDV2_RESERVED:
                raise self._reserved(c)
            self.out.append(c)
            i += 1
        if self.stack:
            kind, _, byte_offset = self.stack[-1]
            raise self._fail(
                f"Can't find end of {_ENTITY_NAMES[kind]} entity at byte offset {byte_offset}"
            )
        if self.quote_start is not None:
            self.out.entity("blockquote", self.quote_start)
        return self.out.result()

    def _scan_code(self, i: int, closing: str) -> tuple[str, int] | None:
        """Text up to the unescaped `closing` marker starting at i, and the index after it."""
        s, n = self.s, len(self.s)
        parts: list[str] = []
        while i < n:
            if s[i] == "\\" and i + 1 < n and s[i + 1] in "`\\":
                parts.append(s[i + 1])
                i += 2
                continue
            if s.startswith(closing, i):
                return "".join(parts), i + len(closing)
            parts.append(s[i])
            i += 1
        return None

    def _code(self, i: int) -> int:
        scanned = self._scan_code(i + 1, "`")
        if scanned is None:
            raise self._fail(
                f"Can't find end of Code entity at byte offset {_byte_offset(self.s, i)}"
            )
        body, after = scanned
        start = self.out.offset
        self.out.append(body)
        self.out.entity("code", start)
        return after

    def _pre(self, i: int) -> int:
        scanned = self._scan_code(i + 3, "```")
        if scanned is None:
            raise self._fail(
                f"Can't find end of Pre entity at byte offset {_byte_offset(self.s, i)}"
            )
        body, after = scanned
        language = ""
        first_line, newline, rest = body.partition("\n")
        if newline and first_line and " " not in first_line:
            language, body = first_line, rest
        start = self.out.offset
        self.out.append(body)
        if language:
            self.out.entity("pre", start, language=language)
        else:
            self.out.entity("pre", start)
        return after

    def _close_link(self, i: int) -> int:
        kind, start, byte_offset = self.stack.pop()
        s, n = self.s, len(self.s)
        if not s.startswith("(", i + 1):
            raise self._reserved("]")
        j = i + 2
        url: list[str] = []
        while j < n and s[j] != ")":
            if s[j] == "\\" and j + 1 < n and s[j + 1] in ")\\":
                url.append(s[j + 1])
                j += 2
                continue
            url.append(s[j])
            j += 1
        if j >= n:
            raise self._fail(f"Can't find end of a URL at byte offset {byte_offset}")
        target = "".join(url)
        if kind == "custom_emoji":
            emoji_id = target.split("id=", 1)[-1]
            self.out.entity("custom_emoji", start, custom_emoji_id=emoji_id)
        else:
            self.out.entity("text_link", start, url=target)
        return j + 1


# ---------------------------------------------------------------------------- legacy Markdown


def _parse_markdown_legacy(text: str) -> tuple[str, list[dict[str, Any]]]:
    out = _Builder()
    s, n, i = text, len(text), 0

    def unclosed(index: int) -> FormatError:
        return FormatError(
            PARSE_ERROR
            + f"Can't find end of the entity starting at byte offset {_byte_offset(s, index)}"
        )

    while i < n:
        c = s[i]
        if c == "\\" and i + 1 < n and s[i + 1] in "*_`[":
            out.append(s[i + 1])
            i += 2
        elif c in "*_":
            j = s.find(c, i + 1)
            if j < 0:
                raise unclosed(i)
            start = out.offset
            out.append(s[i + 1 : j])
            out.entity("bold" if c == "*" else "italic", start)
            i = j + 1
        elif c == "`":
            marker = "```" if s.startswith("```", i) else "`"
            j = s.find(marker, i + len(marker))
            if j < 0:
                raise unclosed(i)
            body = s[i + len(marker) : j]
            start = out.offset
            if marker == "```":
                first_line, newline, rest = body.partition("\n")
                if newline and first_line and " " not in first_line:
                    out.append(rest)
                    out.entity("pre", start, language=first_line)
                else:
                    out.append(body)
                    out.entity("pre", start)
            else:
                out.append(body)
                out.entity("code", start)
            i = j + len(marker)
        elif c == "[":
            j = s.find("]", i + 1)
            if j < 0:
                raise unclosed(i)
            if s.startswith("(", j + 1):
                k = s.find(")", j + 2)
                if k < 0:
                    raise unclosed(i)
                start = out.offset
                out.append(s[i + 1 : j])
                out.entity("text_link", start, url=s[j + 2 : k])
                i = k + 1
            else:
                out.append(s[i : j + 1])
                i = j + 1
        else:
            out.append(c)
            i += 1
    return out.result()
