"""Screens of the eventscope app."""
