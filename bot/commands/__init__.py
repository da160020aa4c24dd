"""Admin and head chat commands: roles checked in one place, channel-neutral handlers."""
