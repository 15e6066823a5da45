"""What drives the main screen: the time cursor, frames, the live watch, autoplay and marks.

The screen composes widgets, binds keys and routes messages; each controller here
owns one of the things it used to do itself (see `docs` in each module).
"""
