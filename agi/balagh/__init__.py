"""Balagh: a quick-report hotline for Asterisk. The version is the package metadata's."""
