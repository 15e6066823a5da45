"""Widgets of the eventscope app: thin, display-only, messages up."""
