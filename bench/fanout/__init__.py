"""Fan-out benchmark: survey invitations through the outbox within Telegram's 30 messages/s.

Run `.venv/bin/python -m bench.fanout [--quick] [--chats N] [--db sqlite|postgres|both]`;
see `bench/fanout/RESULTS.md` for what it measures and the latest numbers.
"""
