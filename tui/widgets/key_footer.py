"""The footer: every key that fits, and always `? Help` and `^p Palette`.

Textual's footer cuts whatever passes the right edge, mid-label ("/ Fil"). This one
drops whole keys instead, the least important (rightmost) first, and never the two that
lead to every other key: help and the command palette.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

KEPT = frozenset({"app.help", "help", "app.command_palette", "command_palette"})
"""Actions whose keys stay in the footer at any width."""

PALETTE_WIDTH = 13
"""Cells the docked `^p Palette` key takes, with its separator."""


class KeyFooter(Footer):
    """A compact footer that drops whole keys, never help or the palette, when narrow."""

    def _hidden_actions(self) -> set[str]:
        width = self.size.width or self.app.size.width
        if not width:
            return set()
        shown: dict[str, int] = {}
        groups: set[object] = set()
        for _node, binding, _enabled, _tip in self.screen.active_bindings.values():
            if not binding.show or binding.action in shown:
                continue
            if binding.group is not None:
                # A group of keys shares one label ("←→ Step"): count the label once.
                cost = len(self.app.get_key_display(binding))
                if binding.group not in groups:
                    groups.add(binding.group)
                    cost += len(binding.group.description) + 2
            else:
                cost = len(self.app.get_key_display(binding)) + len(binding.description) + 2
            shown[binding.action] = cost
        room = width - (PALETTE_WIDTH if self.show_command_palette else 0)
        hidden: set[str] = set()
        for action in reversed(list(shown)):
            if sum(shown.values()) <= room:
                break
            if action not in KEPT and not action.startswith("step("):
                hidden.add(action)
                shown.pop(action)
        return hidden

    def compose(self) -> ComposeResult:
        hidden = self._hidden_actions()
        # Pass the parent's widgets through one by one (its key groups are context
        # managers that must open and close in step with what is yielded).
        for widget in super().compose():
            if isinstance(widget, FooterKey) and widget.action in hidden:
                continue
            yield widget

    def on_resize(self) -> None:
        self.call_after_refresh(self.recompose)
