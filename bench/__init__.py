"""Benchmarks of SIPAS Bot; each lives in its own subpackage (see docs/benchmarks.md)."""
