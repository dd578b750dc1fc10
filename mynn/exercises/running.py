"""Calling a learner's answer: a time limit per call, printed output kept short, warnings noted.

The answer runs in a worker thread while the caller waits for it at most ``time_limit``
seconds. Why a thread:

- a signal-based alarm (``signal.setitimer``) works only in the main thread of a POSIX system,
  so it fails in a notebook's helper threads and on Windows, and it takes over ``SIGALRM``;
- a separate process needs a function it can pickle (one typed into a notebook is not) and
  copies of every array;
- a thread works from any thread on any system and sees the same objects.

Python cannot kill a thread, so when the time is up the worker is asked to stop:
[AnswerStopped][mynn.exercises.running.AnswerStopped] is raised inside it (CPython's
``PyThreadState_SetAsyncExc``), which ends an endless Python loop at its next instruction. An
answer stuck inside one long C call (``time.sleep``, a huge matrix product) is only stopped when
that call returns; the verdict still comes on time, and the worker, a daemon thread, never keeps
Python from exiting. [Outcome.stopped][mynn.exercises.running.Outcome] says which happened.
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import io
import queue
import threading
import warnings
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["AnswerStopped", "Outcome", "Printed", "Runner"]

STOP_GRACE = 1.0
"""Seconds to wait, after the time limit, for the worker to stop."""


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
    """A daemon thread that runs one job at a time: ``(context, function, inputs)``."""

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.results: queue.SimpleQueue = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._serve, name="mynn-exercise-answer", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            while True:
                context, function, inputs = self.jobs.get()
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


_idle_workers: list[_Worker] = []
"""Workers free for the next answer: starting a thread costs more than a trial, so the tests'
thousands of checks reuse them. A worker whose answer ran out of time is never put back."""
_idle_lock = threading.Lock()


class Runner:
    """Calls ``function`` in a worker thread, one call at a time, each within ``time_limit``.

    Use it as a context manager: on entry it takes a worker thread, what is printed goes to
    ``printed`` and warnings are recorded, not shown, whatever the warning filters say (under
    ``filterwarnings = error`` they would otherwise become exceptions inside the answer); on exit
    all three end.

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
        self._worker: _Worker | None = None
        self._redirections = contextlib.ExitStack()
        self._warnings: list[warnings.WarningMessage] = []

    def __enter__(self) -> Runner:
        with _idle_lock:
            self._worker = _idle_workers.pop() if _idle_workers else None
        if self._worker is None:
            self._worker = _Worker()
        with contextlib.ExitStack() as stack:
            self._warnings = stack.enter_context(warnings.catch_warnings(record=True))
            warnings.simplefilter("always")
            stack.enter_context(contextlib.redirect_stdout(self.printed))
            stack.enter_context(contextlib.redirect_stderr(self.printed))
            self._redirections = stack.pop_all()
        return self

    def __exit__(self, *exc_info) -> None:
        self._redirections.close()
        if self._worker is not None:  # None after a call that did not come back
            with _idle_lock:
                _idle_workers.append(self._worker)
            self._worker = None

    def call(self, inputs: dict) -> Outcome:
        """Call the answer with ``inputs`` as keyword arguments and wait for its outcome."""
        worker = self._worker
        if worker is None:
            raise RuntimeError(
                "call() needs a Runner entered with `with` whose worker did not run out of time"
            )
        seen = len(self._warnings)
        # the caller's context (numpy's errstate lives in it) goes with the call
        worker.jobs.put((contextvars.copy_context(), self.function, inputs))
        try:
            outcome = worker.results.get(timeout=self.time_limit)
        except queue.Empty:
            self._worker = None
            outcome = Outcome("timed out", stopped=worker.stop())
        except BaseException:  # Ctrl-C while waiting: do not leave the answer running
            self._worker = None
            worker.stop()
            raise
        counts = Counter(f"{w.category.__name__}: {w.message}" for w in self._warnings[seen:])
        outcome.warnings = [text if n == 1 else f"{text} ({n} times)" for text, n in counts.items()]
        return outcome
