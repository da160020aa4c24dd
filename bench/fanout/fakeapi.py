"""A small async client for the fake Bot API's control routes (`/_fake/...`).

Only what the benchmark needs: inject updates, set faults, read calls, violations, callback
queries and chat histories. Times the fake reports are its `time.monotonic()`, which on Linux
is the same clock in every process of the machine.
"""

from __future__ import annotations

from typing import Any

import aiohttp


class FakeApiError(RuntimeError):
    pass


class FakeApi:
    """Talks to one fake Telegram server over HTTP."""

    def __init__(self, url: str, http: aiohttp.ClientSession) -> None:
        self.url = url.rstrip("/")
        self.base_url = f"{self.url}/bot"
        self._http = http

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
    ) -> Any:
        async with self._http.request(
            method, f"{self.url}/_fake/{path}", json=json, params=params
        ) as response:
            body = await response.json()
        if not body.get("ok"):
            raise FakeApiError(f"{method} /_fake/{path}: {body.get('error')}")
        return body["result"]

    async def state(self) -> dict[str, Any]:
        return dict(await self._call("GET", "state"))

    async def inject(self, actions: list[dict[str, Any]]) -> list[Any]:
        return list(await self._call("POST", "inject", json=actions))

    async def press(self, user_id: int, label: str) -> dict[str, Any]:
        """Press the button labelled `label` on the last bot message of the chat."""
        return dict(await self._call("POST", f"users/{user_id}/press", json={"label": label}))

    async def text(self, user_id: int, text: str) -> dict[str, Any]:
        return dict(await self._call("POST", f"users/{user_id}/text", json={"text": text}))

    async def fail_rate(
        self, method: str, rate: float, *, status: int = 429, retry_after: int = 1, seed: int = 1
    ) -> None:
        await self._call(
            "POST",
            "fail_rate",
            json={
                "method": method,
                "rate": rate,
                "status": status,
                "retry_after": retry_after,
                "seed": seed,
            },
        )

    async def clear_faults(self) -> None:
        await self._call("POST", "clear_faults", json={})

    async def calls(
        self, *, method: str | None = None, since: int = 0, chat_id: int | None = None
    ) -> list[dict[str, Any]]:
        params = {"since": str(since)}
        if method:
            params["method"] = method
        if chat_id is not None:
            params["chat_id"] = str(chat_id)
        return list(await self._call("GET", "calls", params=params))

    async def violations(self, since: int = 0) -> list[dict[str, Any]]:
        return list(await self._call("GET", "violations", params={"since": str(since)}))

    async def callback_queries(self) -> list[dict[str, Any]]:
        return list(await self._call("GET", "callback_queries"))

    async def history(self, chat_id: int) -> list[dict[str, Any]]:
        return list(await self._call("GET", "history", params={"chat_id": str(chat_id)}))


def call_text(call: dict[str, Any]) -> str:
    """The text a sendMessage call carried (as sent, before parse_mode)."""
    text = call.get("params", {}).get("text")
    return text if isinstance(text, str) else ""


def call_chat(call: dict[str, Any]) -> int | None:
    chat = call.get("chat_id")
    try:
        return int(chat) if chat is not None else None
    except (TypeError, ValueError):
        return None
