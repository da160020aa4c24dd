"""Telegram channel adapter (python-telegram-bot)."""
