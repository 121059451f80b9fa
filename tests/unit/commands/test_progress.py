"""The progress bar: drawn on a terminal only, after a delay, cleared at the end."""

from __future__ import annotations

import io

from hedge.commands.progress import ProgressBar


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_pipe_never_sees_a_bar() -> None:
    out = io.StringIO()
    bar = ProgressBar("replay", 100, stream=out, after_s=0.0, every_s=0.0)
    bar.update(50)
    bar.close()
    assert not bar.enabled and out.getvalue() == ""


def test_a_terminal_sees_the_share_and_the_line_is_cleared() -> None:
    out = Tty()
    bar = ProgressBar("sweep", 4, stream=out, after_s=0.0, every_s=0.0)
    bar.update(1, "1 failed")
    assert "25%" in out.getvalue() and "1/4" in out.getvalue() and "1 failed" in out.getvalue()
    bar.close()
    assert out.getvalue().endswith("\r\033[K")


def test_a_short_run_draws_nothing() -> None:
    out = Tty()
    bar = ProgressBar("replay", None, stream=out, after_s=3600.0)
    bar.update(10)
    bar.close()
    assert out.getvalue() == ""
    assert "10" in bar.line(2.0)  # without a total: the count and the rate


def test_a_log_line_clears_the_bar_first() -> None:
    import logging

    out = Tty()
    handler = logging.StreamHandler(out)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        bar = ProgressBar("replay", 10, stream=out, after_s=0.0, every_s=0.0)
        bar.update(5)
        logging.getLogger("hedge.test").warning("a line")
        assert out.getvalue().split("\r\033[K")[-1] == "a line\n"  # the bar cleared, then the log line
        bar.close()
        assert not handler.filters
    finally:
        root.removeHandler(handler)
