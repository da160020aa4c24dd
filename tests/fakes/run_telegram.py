"""Run the fake Telegram Bot API server as a standalone process.

    python -m tests.fakes.run_telegram --port 8081 [--token 123456:TEST-TOKEN] [--no-enforce]

Once listening it prints one line, `FAKE_TELEGRAM_READY <base_url>`, on stdout (so a parent
started with --port 0 learns the port), then serves until SIGINT/SIGTERM. Drive it through
the control API under `/_fake/` (see tests/fakes/_control.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from .telegram_api import DEFAULT_TOKEN, FakeTelegram


def _optional_number(text: str) -> float | None:
    return None if text.lower() in ("none", "off", "0") else float(text)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--username", default="sipas_test_bot")
    parser.add_argument(
        "--global-rate",
        type=_optional_number,
        default=30.0,
        help="sends per window overall; 'none' disables",
    )
    parser.add_argument(
        "--per-chat-burst",
        type=_optional_number,
        default=3.0,
        help="sends per window per chat; 'none' disables",
    )
    parser.add_argument(
        "--per-chat-rate",
        type=_optional_number,
        default=1.0,
        help="sustained sends/s per chat; 'none' disables",
    )
    parser.add_argument("--rate-window", type=float, default=1.0)
    parser.add_argument(
        "--no-enforce", action="store_true", help="record limit violations but do not answer 429"
    )
    parser.add_argument(
        "--lenient-chats",
        action="store_true",
        help="accept sends to chats no simulated user has opened",
    )
    parser.add_argument("--callback-ttl", type=_optional_number, default=15.0)
    parser.add_argument("--timeout-delay", type=float, default=15.0)
    parser.add_argument("--webhook-retry-delay", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--log-level", default="WARNING")
    return parser.parse_args(argv)


def build(args: argparse.Namespace) -> FakeTelegram:
    return FakeTelegram(
        args.token,
        bot_username=args.username,
        host=args.host,
        global_rate=None if args.global_rate is None else int(args.global_rate),
        per_chat_burst=None if args.per_chat_burst is None else int(args.per_chat_burst),
        per_chat_rate=args.per_chat_rate,
        rate_window=args.rate_window,
        enforce_limits=not args.no_enforce,
        strict_chats=not args.lenient_chats,
        callback_query_ttl=args.callback_ttl,
        timeout_delay=args.timeout_delay,
        webhook_retry_delay=args.webhook_retry_delay,
        seed=args.seed,
    )


async def serve(args: argparse.Namespace) -> None:
    fake = build(args)
    base_url = await fake.start(port=args.port)
    print(f"FAKE_TELEGRAM_READY {base_url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await fake.stop()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
