"""eventscope's domain layer: pure Python and pydantic, no IO.

The kernel (messages, envelopes, errors, upcasting, clock), the ports
(`EventStore`), services that depend only on ports (the command bus, the
projections runner and the timeline), and one package per bundled domain.
"""
