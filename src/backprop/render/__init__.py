"""Rendering: reports in, text out. Only this package imports rich."""
