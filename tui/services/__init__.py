"""The app's application services: every blocking call the app makes, without Textual.

- `queries`: the log, one event's links, the time axis, diffs, lineage, aggregates;
- `stepping`: frames and stepping (where the app is, and what changed);
- `chain`: the chain check;
- `bookmarks`: named positions;
- `blame`: field blame as text; `state_search`: finding text in the state at a point;
- `calls`: in-flight tracking, so closing waits for calls still running;
- `types` and `frames`: the values they return, which the widgets import.

`tui.session.Session` puts them together for the app. Nothing here imports textual
(`tests/unit/test_layers.py` checks).
"""
