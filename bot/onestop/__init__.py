"""Integration with provincial one-stop systems: signed case events in, links out."""
