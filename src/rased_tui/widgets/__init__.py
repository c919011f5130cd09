"""Widgets and small builders shared by several screens."""
