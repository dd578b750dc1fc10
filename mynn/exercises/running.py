"""Calling a learner's answer: a time limit per call, printed output kept short, warnings noted.

Two ways to stop an answer that runs too long, chosen for each check:

- **An alarm**, in the main thread of a system that has ``signal.setitimer`` (Linux, macOS)
  and when nothing else uses ``SIGALRM``: the answer runs in the caller's thread and
  ``SIGALRM`` raises [AnswerStopped][mynn.exercises.running.AnswerStopped] inside it when the
  time is up, again every 0.1 s until it gives up. This stops endless loops and sleeps alike,
  leaves nothing running, and costs nothing per call, which matters when the tests run
  thousands of checks.
- **A worker thread** everywhere else (a thread other than the main one, Windows, an alarm
  already in use): the caller waits for the worker at most ``time_limit`` seconds. Python
  cannot kill a thread, so when the time is up the worker is asked to stop: AnswerStopped is
  raised inside it (CPython's ``PyThreadState_SetAsyncExc``), which ends an endless Python loop
  at its next instruction. An answer stuck in one long C call (``time.sleep``, a huge matrix
  product) only stops when that call returns; the verdict still comes on time, the worker is a
  daemon thread that never keeps Python from exiting, and
  [Outcome.stopped][mynn.exercises.running.Outcome] says that it is still running.

- **No limit** where Python has no threads and no alarm (WebAssembly builds such as Pyodide,
  which runs the site's Run buttons): the answer runs in the caller's thread until it returns.
  In a browser an endless answer is stopped by reloading the page.

A separate process could always be killed, but it needs a function it can pickle (one typed
into a notebook is not) and a copy of every array, and it takes a while to start.
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import io
import queue
import signal
import sys
import threading
import warnings
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["AnswerStopped", "Outcome", "Printed", "Runner"]

STOP_GRACE = 0.2
"""Seconds to wait, after the time limit, for a worker thread to stop."""
RING_AGAIN = 0.1
"""Seconds between alarms once the time is up, for an answer that catches the first."""


class AnswerStopped(BaseException):
    """Raised inside an answer that ran out of time.

    A ``BaseException``, so that an answer's ``except Exception:`` does not swallow it.
    """


@dataclass
class Outcome:
    """What one call of the answer gave.

    Attributes:
        status: ``"returned"``, ``"raised"`` or ``"timed out"``.
        value: What the answer returned (``"returned"``).
        error: What the answer raised (``"raised"``).
        stopped: After ``"timed out"``: whether the worker has stopped since.
        warnings: The warnings it issued, as ``"RuntimeWarning: overflow encountered in exp"``,
            with `` (3 times)`` when repeated.
    """

    status: str
    value: object = None
    error: BaseException | None = None
    stopped: bool = True
    warnings: list[str] = field(default_factory=list)


class Printed(io.TextIOBase):
    """A text stream that keeps the first and last lines written to it and counts the rest.

    Its memory stays bounded however much is printed, and
    [render][mynn.exercises.running.Printed.render] shows it as a short block.

    Examples:
        >>> printed = Printed(head=2, tail=1)
        >>> for i in range(1, 6):
        ...     print(f"line {i}", file=printed)
        >>> printed.lines
        5
        >>> print(printed.render())
        --- printed by your function: 5 lines, the first 2 and the last 1 shown ---
        line 1
        line 2
        ... 2 lines not shown ...
        line 5
        --- end of what your function printed ---
    """

    def __init__(self, head: int = 10, tail: int = 5, width: int = 200) -> None:
        super().__init__()
        self.head_size, self.width = head, width
        self.head: list[str] = []
        self.tail: deque[str] = deque(maxlen=tail)
        self.lines = 0
        self._partial = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        pieces = (self._partial + text).split("\n")
        for line in pieces[:-1]:
            self._keep(line)
        self._partial = pieces[-1][: self.width + 1]  # an endless line cannot fill the memory
        return len(text)

    def _keep(self, line: str) -> None:
        self.lines += 1
        if len(line) > self.width:
            line = line[: self.width] + " [...]"
        if len(self.head) < self.head_size:
            self.head.append(line)
        else:
            self.tail.append(line)

    def finish(self) -> None:
        """Count a last line that did not end with a newline."""
        if self._partial:
            self._keep(self._partial)
            self._partial = ""

    def render(self) -> str:
        """The kept lines between a header and a footer; ``""`` if nothing was printed."""
        self.finish()
        if not self.lines:
            return ""
        hidden = self.lines - len(self.head) - len(self.tail)
        if hidden:
            header = (
                f"{self.lines:,} lines, the first {len(self.head)} and the last "
                f"{len(self.tail)} shown"
            )
            middle = [f"... {hidden:,} line{'s' * (hidden != 1)} not shown ..."]
        else:
            header = f"{self.lines:,} line{'s' * (self.lines != 1)}"
            middle = []
        body = [*self.head, *middle, *self.tail]
        return "\n".join(
            [
                f"--- printed by your function: {header} ---",
                *body,
                "--- end of what your function printed ---",
            ]
        )


def _raise_in_thread(thread: threading.Thread, exception: type[BaseException]) -> bool:
    """Ask CPython to raise ``exception`` in ``thread`` at its next Python instruction."""
    set_async_exc = getattr(getattr(ctypes, "pythonapi", None), "PyThreadState_SetAsyncExc", None)
    if thread.ident is None or set_async_exc is None:  # not CPython
        return False
    changed = set_async_exc(ctypes.c_ulong(thread.ident), ctypes.py_object(exception))
    if changed > 1:  # cannot happen for one thread id; undo rather than hit another thread
        set_async_exc(ctypes.c_ulong(thread.ident), None)
    return changed == 1


class _Worker:
    """A daemon thread that runs one job at a time, ``(context, function, inputs)``, until None."""

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.results: queue.SimpleQueue = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._serve, name="mynn-exercise-answer", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            while (job := self.jobs.get()) is not None:
                context, function, inputs = job
                try:
                    value = context.run(function, **inputs)
                except AnswerStopped:
                    raise
                except BaseException as error:  # the learner's code: report whatever it raised
                    self.results.put(Outcome("raised", error=error))
                else:
                    self.results.put(Outcome("returned", value=value))
        except AnswerStopped:
            return

    def stop(self) -> bool:
        """Raise AnswerStopped in the thread; whether it ended within ``STOP_GRACE`` seconds."""
        if _raise_in_thread(self.thread, AnswerStopped):
            self.thread.join(STOP_GRACE)
        return not self.thread.is_alive()


# Python compiled to WebAssembly (Pyodide in a browser, WASI) cannot start threads.
_NO_THREADS = sys.platform in ("emscripten", "wasi")


def _alarm_is_free() -> bool:
    """Whether this thread may use SIGALRM: the main thread, with no other handler or timer."""
    return (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.SIG_IGN)
        and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    )


class Runner:
    """Calls ``function`` one call at a time, each within ``time_limit`` seconds.

    Use it as a context manager: on entry it sets up the alarm or takes a worker thread
    (``mechanism`` says which), what is printed goes to ``printed``, and warnings are recorded,
    not shown, whatever the warning filters say (under ``filterwarnings = error`` they would
    otherwise become exceptions inside the answer); on exit all of it ends.

    Examples:
        >>> with Runner(lambda x: x + 1, time_limit=1.0) as runner:
        ...     outcome = runner.call({"x": 1})
        >>> outcome
        Outcome(status='returned', value=2, error=None, stopped=True, warnings=[])
        >>> def endless():
        ...     while True:
        ...         pass
        >>> with Runner(endless, time_limit=0.1) as runner:
        ...     outcome = runner.call({})
        >>> outcome.status, outcome.stopped
        ('timed out', True)
    """

    def __init__(
        self, function: Callable, time_limit: float, printed: Printed | None = None
    ) -> None:
        self.function = function
        self.time_limit = time_limit
        self.printed = Printed() if printed is None else printed
        self.mechanism = ""
        self._worker: _Worker | None = None
        self._answering = False
        self._exit_stack = contextlib.ExitStack()
        self._warnings: list[warnings.WarningMessage] = []

    def __enter__(self) -> Runner:
        with contextlib.ExitStack() as stack:
            if _alarm_is_free():
                self.mechanism = "alarm"
                previous = signal.signal(signal.SIGALRM, self._ring)
                stack.callback(signal.signal, signal.SIGALRM, previous)
                stack.callback(signal.setitimer, signal.ITIMER_REAL, 0)
            elif _NO_THREADS:
                self.mechanism = "none"
            else:
                self.mechanism = "thread"
                self._worker = _Worker()
                stack.callback(self._release_worker)
            self._warnings = stack.enter_context(warnings.catch_warnings(record=True))
            warnings.simplefilter("always")
            stack.enter_context(contextlib.redirect_stdout(self.printed))
            stack.enter_context(contextlib.redirect_stderr(self.printed))
            self._exit_stack = stack.pop_all()
        return self

    def __exit__(self, *exc_info) -> None:
        self._exit_stack.close()

    def _release_worker(self) -> None:
        if self._worker is not None:  # None after a call that did not come back in time
            self._worker.jobs.put(None)
            self._worker = None

    def call(self, inputs: dict) -> Outcome:
        """Call the answer with ``inputs`` as keyword arguments and wait for its outcome."""
        seen = len(self._warnings)
        if self.mechanism in ("alarm", "none"):
            outcome = self._call_with_alarm(inputs)
        elif self.mechanism == "thread" and self._worker is not None:
            outcome = self._call_in_worker(self._worker, inputs)
        else:
            raise RuntimeError(
                "call() needs a Runner entered with `with` whose answer has not run out of time"
            )
        if len(self._warnings) > seen:
            counts = Counter(f"{w.category.__name__}: {w.message}" for w in self._warnings[seen:])
            outcome.warnings = [
                text if n == 1 else f"{text} ({n} times)" for text, n in counts.items()
            ]
        return outcome

    def _ring(self, signum, frame) -> None:
        if self._answering:  # never in the checker's own code, before or after the call
            raise AnswerStopped

    def _call_with_alarm(self, inputs: dict) -> Outcome:
        """The answer in this thread: with the alarm set, or with no limit (mechanism "none")."""
        alarm = self.mechanism == "alarm"
        self._answering = True
        try:
            if alarm:
                signal.setitimer(signal.ITIMER_REAL, self.time_limit, RING_AGAIN)
            try:
                value = self.function(**inputs)
            finally:
                self._answering = False
                if alarm:
                    signal.setitimer(signal.ITIMER_REAL, 0)
        except AnswerStopped:
            return Outcome("timed out", stopped=True)
        except (Exception, SystemExit) as error:  # the learner's code: report what it raised
            return Outcome("raised", error=error)
        return Outcome("returned", value=value)

    def _call_in_worker(self, worker: _Worker, inputs: dict) -> Outcome:
        # the caller's context (numpy's errstate lives in it) goes with the call
        worker.jobs.put((contextvars.copy_context(), self.function, inputs))
        try:
            return worker.results.get(timeout=self.time_limit)
        except queue.Empty:
            self._worker = None
            return Outcome("timed out", stopped=worker.stop())
        except BaseException:  # Ctrl-C while waiting: do not leave the answer running
            self._worker = None
            worker.stop()
            raise
