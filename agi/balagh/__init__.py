"""Balagh: a quick-report hotline for Asterisk."""

__version__ = "0.1.0"
