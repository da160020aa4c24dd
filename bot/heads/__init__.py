"""Agency heads, inspectors and their alerts."""
