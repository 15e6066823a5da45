"""The app's themes: `--theme NAME` picks one; the names are known without importing Textual."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.app import App

LIGHT_CONTRAST = "eventscope-light-contrast"

THEMES = {"dark": "textual-dark", "light-contrast": LIGHT_CONTRAST}
"""`--theme` name -> the Textual theme it selects."""

DEFAULT_THEME = "dark"


def install_theme(app: App[Any], name: str) -> None:
    """Register eventscope's own themes on `app`, then switch to the one `--theme` named."""
    from textual.theme import Theme

    # For a projector: black on white, saturated dark accents, no faint tints.
    app.register_theme(
        Theme(
            name=LIGHT_CONTRAST,
            primary="#003c9e",
            secondary="#5b0f9e",
            accent="#a33b00",
            warning="#8a5300",
            error="#b00020",
            success="#00661f",
            foreground="#000000",
            background="#ffffff",
            surface="#f4f4f4",
            panel="#e2e2e2",
            boost="#00000014",
            dark=False,
            luminosity_spread=0.1,
            text_alpha=1.0,
        )
    )
    app.theme = THEMES[name]
