"""HTTP surface: intake, read API, citizen case page, health and metrics."""
