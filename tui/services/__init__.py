"""The app's application services: every blocking call the app makes, without Textual.

- `queries`: the log, one event's links, the time axis, diffs, lineage, aggregates;
- `stepping`: frames and stepping (where the app is, and what changed);
- `chain`: the chain check;
- `bookmarks`: named positions;
- `blame`: field blame as text; `state_search`: finding text in the state at a point;
- `calls`: in-flight tracking, so closing waits for calls still running;
- `flow`: one command's CQRS flow, stage by stage (the flow view);
- `read_side_hooks` and `live_changes`: the projector delay, and the rows each folded
  batch changed (live frames compare only those);
- `timed_play`: autoplay in the original timing, compressed;
- `types` and `frames`: the values they return, which the widgets import.

`tui.session.Session` puts them together for the app. Nothing here imports textual
(`tests/unit/test_layers.py` checks).
"""
