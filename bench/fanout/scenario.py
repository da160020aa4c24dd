"""The phases of the fan-out benchmark against one database.

1. Setup (untimed): 2·N cases by signed intake events (status 2), each linked to its own fake
   user by `/start <payload>` through the fake's control API; waits until every link
   confirmation was delivered (≤ 30/s, so about 2·N/30 s).
2. Fan-out (timed), twice: status-10 events for N cases at once, then wait until each of the N
   chats got its survey invitation; rate of successful invitation sends from the first to the
   last, flood violations the fake recorded, lost and duplicated invitations. The second run
   injects 429 (retry_after 1) on a share of sendMessage calls.
3. Press → next question (timed): presses spread over chats of the first run at a steady rate;
   time from the press being available to getUpdates (the callback query's creation in the
   fake) to the fake receiving the sendMessage of question 2 for that chat.
4. Baseline: the same round trip for a minimal python-telegram-bot echo bot (fresh fake, text
   in, sendMessage out, no database).

Every wait is bounded; times are the fake's `time.monotonic()` (one clock for the machine).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import asyncpg

from bench.fanout import procs
from bench.fanout.fakeapi import FakeApi, call_chat, call_text
from bench.fanout.stats import CpuMeter, max_in_window, rate, summary_ms
from bot.cli.cases import sample_event
from bot.onestop.signature import sign

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TELEGRAM_LIMIT = 30.0  # messages per second per bot (domain.md §8)
INVITE_MARK = "Câu 1/"
NEXT_MARK = "Câu 2/"
LINKED_MARK = "Đã liên kết hồ sơ"
PRESS_LABEL = "5. Rất hài lòng"
USER_BASE = 7_000_000
ECHO_USER_BASE = 8_000_000


@dataclass(frozen=True)
class Options:
    chats: int
    presses: int
    warmup_presses: int
    press_rate: float
    fault_rate: float
    post_concurrency: int
    profile: bool
    results_dir: Path
    stamp: str


@dataclass
class Case:
    code: str
    user_id: int
    payload: str = ""


def log(message: str) -> None:
    print(f"[fanout {time.strftime('%H:%M:%S')}] {message}", flush=True)


async def bounded_gather(
    items: Iterable[Any], worker: Callable[[Any], Awaitable[Any]], concurrency: int
) -> list[Any]:
    """Run `worker` over items with at most `concurrency` at once; results in order."""
    semaphore = asyncio.Semaphore(concurrency)

    async def one(item: Any) -> Any:
        async with semaphore:
            return await worker(item)

    return list(await asyncio.gather(*(one(item) for item in items)))


class Service:
    """Posts signed one-stop events to the running `sipas serve`."""

    def __init__(self, url: str, http: aiohttp.ClientSession) -> None:
        self.url = url
        self._http = http

    async def post(self, event: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(event, ensure_ascii=False).encode("utf-8")
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Sipas-Timestamp": stamp,
            "X-Sipas-Signature": sign(procs.SECRET, stamp, body),
        }
        for attempt in range(5):
            async with self._http.post(
                f"{self.url}/api/v1/onestop/events", data=body, headers=headers
            ) as response:
                if response.status in (200, 202):
                    return dict(await response.json())
                text = await response.text()
                if response.status != 503 or attempt == 4:
                    raise RuntimeError(f"intake answered {response.status}: {text}")
            await asyncio.sleep(0.5)
        raise AssertionError("unreachable")


def local_now() -> datetime:
    return datetime.now(TZ).replace(tzinfo=None)


def event(code: str, status: int, at: datetime) -> dict[str, Any]:
    payload = sample_event(code, status, at)
    payload["SoDienThoai"] = None  # no shared phone: every case is linked only by its payload
    return {k: v for k, v in payload.items() if v is not None}


async def wait_for(
    check: Callable[[], Awaitable[bool]], timeout: float, what: str, interval: float = 0.5
) -> float:
    """Poll `check` until it is true; returns the seconds waited (raises after `timeout`)."""
    started = time.monotonic()
    while True:
        if await check():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{what} not done within {timeout:.0f} s")
        await asyncio.sleep(interval)


def sends_by_chat(
    calls: list[dict[str, Any]], mark: str, chats: set[int]
) -> dict[int, list[dict[str, Any]]]:
    """Successful sendMessage calls whose text contains `mark`, per chat of `chats`."""
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for call in calls:
        chat = call_chat(call)
        if (
            call["method"] == "sendMessage"
            and call["status"] == 200
            and chat in chats
            and mark in call_text(call)
        ):
            found[chat].append(call)
    return found


async def db_rows(database_url: str, dsn: str | None, query: str) -> list[tuple[Any, ...]]:
    """Rows of a read-only query, straight from the service's database (no parameters)."""
    if dsn is not None:
        conn = await asyncpg.connect(dsn, timeout=10)
        try:
            return [tuple(r) for r in await conn.fetch(query)]
        finally:
            await conn.close()
    path = database_url.split(":///", 1)[1]
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)) as db:
        return [tuple(r) for r in db.execute(query).fetchall()]


def _as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def outbox_timeline(rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    """Invitations enqueued (survey opened) and sent per second, from the outbox rows' own
    created_at / sent_at (service clock), counted from the first enqueue."""
    created = [d for d in (_as_datetime(r[0]) for r in rows) if d is not None]
    sent = [d for d in (_as_datetime(r[1]) for r in rows) if d is not None]
    if not created:
        return {}
    origin = min(created)

    def per_second(values: list[datetime]) -> list[int]:
        counts: dict[int, int] = defaultdict(int)
        for value in values:
            counts[int((value - origin).total_seconds())] += 1
        return [counts.get(i, 0) for i in range(max(counts) + 1)] if counts else []

    return {
        "enqueued_per_s": per_second(created),
        "sent_per_s": per_second(sent),
        "all_enqueued_after_s": round((max(created) - origin).total_seconds(), 2),
        "first_sent_after_s": round((min(sent) - origin).total_seconds(), 3) if sent else None,
    }


class TargetRun:
    """One database kind: its fake, its service and the phases against them."""

    def __init__(self, db: str, options: Options, workdir: Path, admin_dsn: str) -> None:
        self.db = db
        self.options = options
        self.workdir = workdir
        self.admin_dsn = admin_dsn
        self.children: list[procs.Child] = []
        self.pg: procs.PostgresDatabase | None = None
        self.database_url = ""
        self.result: dict[str, Any] = {"db": db}

    async def run(self) -> dict[str, Any]:
        self.workdir.mkdir(parents=True, exist_ok=True)
        timeout = aiohttp.ClientTimeout(total=60)
        connector = aiohttp.TCPConnector(limit=max(64, self.options.post_concurrency))
        try:
            async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
                await self._run(http)
        finally:
            for child in reversed(self.children):
                child.stop()
            if self.pg is not None:
                with contextlib.suppress(Exception):
                    await self.pg.drop()
        return self.result

    async def _run(self, http: aiohttp.ClientSession) -> None:
        if self.db == "postgres":
            self.pg = procs.PostgresDatabase(self.admin_dsn)
            self.database_url = await self.pg.create()
        else:
            self.database_url = f"sqlite+aiosqlite:///{self.workdir}/sipas.db"
        fake_child, fake_url = await procs.start_fake(self.workdir)
        self.children.append(fake_child)
        fake = FakeApi(fake_url, http)
        log(f"{self.db}: fake Bot API at {fake_url}; starting sipas serve")
        service_child, service_url = await procs.start_service(
            self.workdir, database_url=self.database_url, telegram_base_url=fake.base_url
        )
        self.children.append(service_child)
        service = Service(service_url, http)
        await wait_for(
            lambda: self._polling(fake), 60, "the service's first getUpdates", interval=0.2
        )
        cpu_groups = {
            "service": [service_child.pid],
            "fake": [fake_child.pid],
            "bench": [os.getpid()],
        }

        first, second = await self.setup(fake, service)
        for name, cases, faults in (("no faults", first, 0.0), ("429s", second, 1.0)):
            meter = CpuMeter({**cpu_groups, "postgres": procs.postgres_pids()})
            run = await self.fanout(
                fake,
                service,
                cases,
                fault_rate=self.options.fault_rate * faults,
                meter=meter,
                profile_pid=service_child.pid if self.options.profile else None,
                label=name,
            )
            self.result.setdefault("fanout", []).append(run)
            await asyncio.sleep(2.0)  # let every window empty before the next phase

        meter = CpuMeter({**cpu_groups, "postgres": procs.postgres_pids()})
        self.result["press"] = await self.press_latency(fake, first, meter)
        self.result["service_log_problems"] = self._log_problems(service_child)
        service_child.stop()
        fake_child.stop()
        self.result["baseline"] = await self.echo_baseline(http)

    async def _rows(self, query: str) -> list[tuple[Any, ...]]:
        return await db_rows(self.database_url, self.pg.dsn if self.pg else None, query)

    async def _polling(self, fake: FakeApi) -> bool:
        return bool(await fake.calls(method="getUpdates"))

    @staticmethod
    def _log_problems(child: procs.Child) -> dict[str, Any]:
        try:
            lines = child.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return {}
        warnings = [line for line in lines if " WARNING " in line or "WARNING" in line[:40]]
        errors = [line for line in lines if " ERROR " in line or "Traceback" in line]
        return {
            "warning_lines": len(warnings),
            "error_lines": len(errors),
            "first_problems": (errors + warnings)[:5],
        }

    # -- setup -------------------------------------------------------------------------------

    async def setup(self, fake: FakeApi, service: Service) -> tuple[list[Case], list[Case]]:
        n = self.options.chats
        tag = self.db[:2].upper()
        cases = [Case(f"FO-{tag}-{i:06d}", USER_BASE + i) for i in range(2 * n)]
        received = local_now() - timedelta(hours=2)
        started = time.monotonic()

        async def intake(case: Case) -> None:
            answer = await service.post(event(case.code, 2, received))
            link = (answer.get("links") or {}).get("telegram")
            if not link:
                raise RuntimeError(f"no Telegram link for {case.code}: {answer}")
            case.payload = str(link).split("start=", 1)[1]

        await bounded_gather(cases, intake, self.options.post_concurrency)
        intake_s = time.monotonic() - started
        log(f"{self.db}: {len(cases)} cases taken in ({intake_s:.1f} s); linking by /start")

        base = await fake.state()
        calls0, sent0 = int(base["calls"]), int(base["messages_sent"])
        started = time.monotonic()
        for i in range(0, len(cases), 200):
            await fake.inject(
                [
                    {
                        "op": "command",
                        "user_id": c.user_id,
                        "command": "/start",
                        "payload": c.payload,
                    }
                    for c in cases[i : i + 200]
                ]
            )

        async def linked() -> bool:
            state = await fake.state()
            return int(state["messages_sent"]) - sent0 >= len(cases)

        await wait_for(linked, timeout=len(cases) / 20.0 + 120, what="link confirmations")
        link_s = time.monotonic() - started
        calls = await fake.calls(method="sendMessage", since=calls0)
        confirmations = sends_by_chat(calls, LINKED_MARK, {c.user_id for c in cases})
        missing = [c.code for c in cases if len(confirmations.get(c.user_id, [])) != 1]
        if missing:
            raise RuntimeError(f"{len(missing)} cases not linked exactly once, e.g. {missing[:3]}")
        times = [call["t"] for sends in confirmations.values() for call in sends]
        violations = await fake.violations()
        self.result["setup"] = {
            "cases": len(cases),
            "intake_s": round(intake_s, 2),
            "link_s": round(link_s, 2),
            "link_confirmation_rate": round(rate(times) or 0.0, 2),
            "link_violations": len(violations),
            "linking": "/start <payload> through the fake's control API",
        }
        log(
            f"{self.db}: {len(cases)} chats linked in {link_s:.1f} s "
            f"({self.result['setup']['link_confirmation_rate']}/s, {len(violations)} violations)"
        )
        await asyncio.sleep(2.0)
        return cases[:n], cases[n:]

    # -- fan-out -----------------------------------------------------------------------------

    async def fanout(
        self,
        fake: FakeApi,
        service: Service,
        cases: list[Case],
        *,
        fault_rate: float,
        meter: CpuMeter,
        profile_pid: int | None,
        label: str,
    ) -> dict[str, Any]:
        n = len(cases)
        chats = {c.user_id for c in cases}
        base = await fake.state()
        calls0, sent0, violations0 = (
            int(base["calls"]),
            int(base["messages_sent"]),
            int(base["violations"]),
        )
        outbox_id0 = int((await self._rows("SELECT coalesce(max(id), 0) FROM outbox"))[0][0])
        if fault_rate > 0:
            await fake.fail_rate("sendMessage", fault_rate, status=429, retry_after=1, seed=7)
        returned = local_now() - timedelta(minutes=1)
        events = [event(c.code, 10, returned) for c in cases]
        profiler = self._start_profiler(profile_pid, n, f"{label}-posting")
        cpu0 = meter.sample()
        t_post = time.monotonic()
        await bounded_gather(events, service.post, self.options.post_concurrency)
        posted_s = time.monotonic() - t_post
        if profiler is not None:  # one profile while events arrive, one for the rest
            profiler.stop(timeout=30, sig=signal.SIGINT)  # py-spy writes its file on SIGINT
            profiler = self._start_profiler(profile_pid, n, f"{label}-dispatch")
        log(f"{self.db}/{label}: {n} status-10 events posted in {posted_s:.1f} s")

        covered: dict[int, list[dict[str, Any]]] = {}

        async def all_invited() -> bool:
            nonlocal covered
            state = await fake.state()
            if int(state["messages_sent"]) - sent0 < n:
                return False
            calls = await fake.calls(method="sendMessage", since=calls0)
            covered = sends_by_chat(calls, INVITE_MARK, chats)
            return len(covered) >= n

        timeout = n / TELEGRAM_LIMIT * 2 + 60
        try:
            await wait_for(all_invited, timeout=timeout, what=f"{n} invitations")
            timed_out = False
        except TimeoutError:
            timed_out = True
        t_done = time.monotonic()
        cpu1 = meter.sample()
        if profiler is not None:
            with contextlib.suppress(Exception):
                profiler.stop(timeout=30, sig=signal.SIGINT)
        await asyncio.sleep(2.0)  # late duplicates would show up here
        if fault_rate > 0:
            await fake.clear_faults()
        calls = await fake.calls(method="sendMessage", since=calls0)
        violations = await fake.violations(since=violations0)
        invites = sends_by_chat(calls, INVITE_MARK, chats)
        ok_times = sorted(call["t"] for sends in invites.values() for call in sends)
        all_ok = [c["t"] for c in calls if c["status"] == 200]
        injected = [c for c in calls if c.get("injected")]
        flood = [c for c in calls if c["status"] == 429 and not c.get("injected")]
        other_errors = [c for c in calls if c["status"] not in (200, 429)]
        attempts = sorted(c["t"] for c in calls if c["status"] is not None)
        lost = sorted(chat for chat in chats if chat not in invites)
        duplicated = sorted(chat for chat, sends in invites.items() if len(sends) > 1)
        achieved = rate(ok_times)
        window = (ok_times[-1] - ok_times[0]) if len(ok_times) > 1 else None
        first_send = ok_times[0] - t_post if ok_times else None
        last_send = ok_times[-1] - t_post if ok_times else None
        attempt_rate = rate([t for t in attempts if ok_times and ok_times[0] <= t <= ok_times[-1]])
        result = {
            "label": label,
            "chats": n,
            "fault_rate_429": fault_rate,
            "events_posted_s": round(posted_s, 2),
            "timed_out": timed_out,
            "invitations_ok": len(ok_times),
            "sendmessage_ok_total": len(all_ok),
            "sendmessage_calls": len(calls),
            "window_s": round(window, 3) if window else None,
            "achieved_per_s": round(achieved, 2) if achieved else None,
            "achieved_pct_of_30": round(100 * achieved / TELEGRAM_LIMIT, 1) if achieved else None,
            "attempts_per_s_in_window": round(attempt_rate, 2) if attempt_rate else None,
            "first_send_after_post_s": round(first_send, 3) if first_send is not None else None,
            "last_send_after_post_s": round(last_send, 2) if last_send is not None else None,
            "ideal_s": round(n / TELEGRAM_LIMIT, 2),
            "max_sends_in_1s": max_in_window(all_ok, 1.0),
            "span_of_31_sends_s": spans_of_31(all_ok),
            "flood_429_early_by_ms": early_by_ms(calls),
            "injected_429": len(injected),
            "flood_429": len(flood),
            "other_errors": len(other_errors),
            "other_error_samples": [f"{c['status']} {c['description']}" for c in other_errors[:3]],
            "violations": len(violations),
            "violation_samples": violations[:3],
            "lost": len(lost),
            "lost_sample": lost[:5],
            "duplicated": len(duplicated),
            "duplicated_sample": duplicated[:5],
            "outbox": {
                str(status): int(count)
                for status, count in await self._rows(
                    "SELECT status, count(*) FROM outbox GROUP BY status"
                )
            },
            "timeline": outbox_timeline(
                await self._rows(
                    "SELECT created_at, sent_at FROM outbox "
                    f"WHERE kind = 'question' AND id > {outbox_id0}"
                )
            ),
            "cpu": meter.usage(cpu0, cpu1, t_done - t_post),
            "per_second": per_second_counts(ok_times),
        }
        log(
            f"{self.db}/{label}: {len(ok_times)} invitations at {result['achieved_per_s']}/s "
            f"({result['achieved_pct_of_30']} % of 30/s), {len(violations)} violations, "
            f"{len(lost)} lost, {len(duplicated)} duplicated, {len(injected)} injected 429s"
        )
        return result

    def _start_profiler(self, pid: int | None, n: int, label: str) -> procs.Child | None:
        if pid is None:
            return None
        out = self.options.results_dir / (
            f"fanout-profile-{self.db}-{label.replace(' ', '_')}-{self.options.stamp}.txt"
        )
        seconds = int(n / TELEGRAM_LIMIT + 15)
        child = procs.Child(
            f"py-spy-{label.replace(' ', '_')}",
            [
                str(Path(procs.PYTHON).parent / "py-spy"),
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(seconds),
                "--rate",
                "100",
                "--format",
                "raw",
                "--output",
                str(out),
            ],
            dict(os.environ),
            self.workdir,
        )
        child.start()
        self.result.setdefault("profiles", []).append(str(out))
        return child

    # -- press → next question ---------------------------------------------------------------

    async def press_latency(
        self, fake: FakeApi, cases: list[Case], meter: CpuMeter
    ) -> dict[str, Any]:
        warm, count = self.options.warmup_presses, self.options.presses
        chosen = [c.user_id for c in cases[: warm + count]]
        base = await fake.state()
        calls0, violations0 = int(base["calls"]), int(base["violations"])
        before = {q["id"] for q in await fake.callback_queries()}
        spacing = 1.0 / self.options.press_rate
        log(f"{self.db}: pressing '{PRESS_LABEL}' in {len(chosen)} chats at {1 / spacing:.0f}/s")
        cpu0 = meter.sample()
        start = time.monotonic()
        for i, chat in enumerate(chosen):
            delay = start + i * spacing - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await fake.press(chat, PRESS_LABEL)
        chats = set(chosen)

        async def answered() -> bool:
            calls = await fake.calls(method="sendMessage", since=calls0)
            return len(sends_by_chat(calls, NEXT_MARK, chats)) >= len(chats)

        try:
            await wait_for(answered, timeout=60, what="next questions")
        except TimeoutError:
            log(f"{self.db}: not every press got its next question within 60 s")
        cpu1 = meter.sample()
        wall = time.monotonic() - start
        queries = [q for q in await fake.callback_queries() if q["id"] not in before]
        calls = await fake.calls(since=calls0)
        violations = await fake.violations(since=violations0)
        pressed_at = {int(q["chat_id"]): q for q in queries}
        nexts = sends_by_chat(calls, NEXT_MARK, chats)
        edits: dict[int, float] = {}
        for call in calls:
            chat = call_chat(call)
            if call["method"] == "editMessageText" and call["status"] == 200 and chat in chats:
                edits.setdefault(chat, call["t"])
        latency, answer_latency, edit_latency, missing = [], [], [], []
        for i, chat in enumerate(chosen):
            query = pressed_at.get(chat)
            sends = nexts.get(chat)
            if query is None or not sends:
                missing.append(chat)
                continue
            if i < warm:
                continue
            t0 = float(query["created_at"])
            latency.append(min(s["t"] for s in sends) - t0)
            if query.get("answered_at") is not None:
                answer_latency.append(float(query["answered_at"]) - t0)
            if chat in edits:
                edit_latency.append(edits[chat] - t0)
        result = {
            "presses": count,
            "warmup_presses": warm,
            "press_rate_per_s": self.options.press_rate,
            "missing": len(missing),
            "violations": len(violations),
            "next_question": summary_ms(latency),
            "answer_callback": summary_ms(answer_latency),
            "edit_message": summary_ms(edit_latency),
            "cpu": meter.usage(cpu0, cpu1, wall),
            "samples_ms": [round(x * 1000, 2) for x in latency],
        }
        log(
            f"{self.db}: press → next question p50 {result['next_question']['p50_ms']} ms, "
            f"p99 {result['next_question']['p99_ms']} ms ({len(missing)} missing)"
        )
        return result

    # -- baseline ----------------------------------------------------------------------------

    async def echo_baseline(self, http: aiohttp.ClientSession) -> dict[str, Any]:
        workdir = self.workdir / "echo"
        workdir.mkdir(exist_ok=True)
        fake_child, fake_url = await procs.start_fake(workdir, name="fake-echo")
        self.children.append(fake_child)
        fake = FakeApi(fake_url, http)
        echo = procs.start_echo(workdir, fake.base_url)
        self.children.append(echo)
        try:
            await wait_for(lambda: self._polling(fake), 60, "the echo bot's getUpdates", 0.2)
            await asyncio.sleep(0.5)
            warm, count = self.options.warmup_presses, self.options.presses
            users = [ECHO_USER_BASE + i for i in range(warm + count)]
            spacing = 1.0 / self.options.press_rate
            start = time.monotonic()
            for i, user in enumerate(users):
                delay = start + i * spacing - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                await fake.text(user, "ping")

            async def replied() -> bool:
                calls = await fake.calls(method="sendMessage")
                return len({call_chat(c) for c in calls if c["status"] == 200}) >= len(users)

            await wait_for(replied, timeout=60, what="echo replies")
            calls = await fake.calls(method="sendMessage")
            latency = []
            for user in users[warm:]:
                history = await fake.history(user)
                asked = next(m["sent_at"] for m in history if not m["from_bot"])
                reply = min(c["t"] for c in calls if call_chat(c) == user and c["status"] == 200)
                latency.append(reply - float(asked))
            result = {
                "messages": count,
                "warmup": warm,
                "rate_per_s": self.options.press_rate,
                "round_trip": summary_ms(latency),
                "samples_ms": [round(x * 1000, 2) for x in latency],
            }
            log(
                f"{self.db}: echo baseline p50 {result['round_trip']['p50_ms']} ms, "
                f"p99 {result['round_trip']['p99_ms']} ms"
            )
            return result
        finally:
            echo.stop()
            fake_child.stop()


def spans_of_31(times: list[float], limit: int = 30) -> dict[str, float | None]:
    """t[i] - t[i-30] over accepted sends: the fake refuses a send when this would be < 1 s,
    so its minimum shows how close the dispatcher came to the limit (1.02 s by design)."""
    ordered = sorted(times)
    spans = [ordered[i] - ordered[i - limit] for i in range(limit, len(ordered))]
    if not spans:
        return {"min": None, "p1": None, "p50": None}
    spans.sort()
    return {
        "min": round(spans[0], 4),
        "p1": round(spans[max(0, len(spans) // 100 - 1)], 4),
        "p50": round(spans[len(spans) // 2], 4),
    }


def early_by_ms(calls: list[dict[str, Any]], limit: int = 30, window: float = 1.0) -> list[float]:
    """For each send the fake refused for the global limit: how much sooner than `window`
    after the 30th-previous accepted send it arrived (ms)."""
    accepted: list[float] = []
    early = []
    for call in sorted(calls, key=lambda c: c["t"]):
        if call["status"] == 200:
            accepted.append(call["t"])
        elif call["status"] == 429 and not call.get("injected") and len(accepted) >= limit:
            early.append(round((window - (call["t"] - accepted[-limit])) * 1000, 1))
    return early


def per_second_counts(times: list[float]) -> list[int]:
    """Successful sends in each whole second after the first one (for a quick look)."""
    if not times:
        return []
    first = times[0]
    counts: dict[int, int] = defaultdict(int)
    for t in times:
        counts[int(t - first)] += 1
    return [counts.get(i, 0) for i in range(max(counts) + 1)]
