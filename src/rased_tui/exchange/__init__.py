"""Exchanges with the outside world, without Textual: demo data, backups, and later exports,
imports and statistics."""
