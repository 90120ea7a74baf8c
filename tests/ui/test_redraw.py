"""The clock alarm redraws only when the screen would read differently."""

from __future__ import annotations

import ui_samples as S
import urwid
from ui_screens import QuietScreen

from arr_actors_ui import palette
from arr_actors_ui.actor import UiActor
from arr_actors_ui.context import RenderContext

SIZE = (200, 50)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def shown(actor: UiActor, *snapshots) -> tuple[UiActor, list[int]]:
    """The actor in a loop, these snapshots received and drawn once; a list counting redraw requests."""
    screen = QuietScreen(SIZE)
    loop = urwid.MainLoop(actor.widget, palette.entries(), screen=screen, handle_mouse=False)
    actor.attach(loop)
    for snapshot in snapshots:
        actor.actor_ref.tell(snapshot)
    actor.drain()
    actor.widget.render(SIZE)
    asked: list[int] = []
    changed = actor.widget.changed
    actor.widget.changed = lambda: (asked.append(1), changed())[1]  # type: ignore[method-assign]
    return actor, asked


def tick(actor: UiActor, clock: Clock, seconds: float = 1.0) -> None:
    clock.now += seconds
    actor._on_alarm(None, None)


def test_nothing_that_reads_differently_means_no_redraw() -> None:
    clock = Clock(S.NOW)
    # Finished rows only, fetched ten minutes ago: "10 min ago" for a while.
    quiet = S.ok_snapshot("completed", fetched_at=S.NOW - 600, updated_at=S.NOW - 600, next_refresh_at=None)
    actor, asked = shown(UiActor.open(RenderContext(), clock=clock), quiet)
    try:
        assert actor.next_wakeup is not None  # the age counts, so the alarm runs
        tick(actor, clock)
        tick(actor, clock)
        assert asked == [] and actor.skipped_redraws == 2
        # ... until the age reads differently.
        tick(actor, clock, 60.0)
        assert asked == [1]
    finally:
        actor.detach()
        actor.finish()


def test_a_runtime_ticking_is_redrawn_every_second() -> None:
    clock = Clock(S.NOW)
    running = S.ok_snapshot("active", fetched_at=S.NOW - 600, updated_at=S.NOW - 600, next_refresh_at=None)
    actor, asked = shown(UiActor.open(RenderContext(), clock=clock), running)
    try:
        for _ in range(3):
            tick(actor, clock)
        assert len(asked) == 3 and actor.skipped_redraws == 0
    finally:
        actor.detach()
        actor.finish()


def test_a_redraw_after_the_alarm_draws_the_lines_it_compared(monkeypatch) -> None:
    """One screen's worth of lines per tick, not two: the redraw uses what the alarm made."""
    from arr_actors_ui import screen
    from arr_actors_ui.canvas import Lines

    clock = Clock(S.NOW)
    running = S.ok_snapshot("active", fetched_at=S.NOW - 600, updated_at=S.NOW - 600, next_refresh_at=None)
    actor, asked = shown(UiActor.open(RenderContext(), clock=clock), running)
    made = []
    real = screen.screen_lines
    monkeypatch.setattr(screen, "screen_lines", lambda *a, **k: made.append(1) or real(*a, **k))
    try:
        tick(actor, clock)
        canvas = actor.widget.render(SIZE)
        assert asked == [1] and len(made) == 1
        assert canvas.text == Lines(real(actor.state, now=clock.now, cols=200, rows=50, ctx=actor.ctx)).render(SIZE).text
    finally:
        actor.detach()
        actor.finish()
