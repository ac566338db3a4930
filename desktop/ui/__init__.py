"""Widgets. No torch."""
