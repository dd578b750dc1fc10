"""Calling a learner's answer: a time limit per call, printed output kept short, warnings noted.

Each call of the answer runs in a **worker thread** while the checker waits for it at most
``time_limit`` seconds, so the verdict comes on time whatever the answer does: an endless loop,
an ``except BaseException:`` (or a bare ``except:``) that swallows every attempt to stop it, a
change to the signal handlers, a module whose import takes minutes. When the time is up the
worker is asked to stop: [AnswerStopped][mynn.exercises.running.AnswerStopped] is raised inside
it (CPython's ``PyThreadState_SetAsyncExc``), which ends a Python loop at its next step, and
again every ``RING_AGAIN`` seconds for ``STOP_GRACE`` seconds, for an answer that caught the
first. Python cannot kill a thread, so a worker that still runs after that is left behind: a
daemon thread, which never keeps Python from exiting, and
[Outcome][mynn.exercises.running.Outcome] says why (``stopped``, ``caught``). Two kinds of
answer keep it running:

- one inside a single long call that Python cannot interrupt (``time.sleep(60)``, a huge
  matrix product): it stops when that call returns. A call that holds the interpreter's lock
  all along (``sum(range(10**12))``) delays the verdict too, until it returns;
- one that catches the stop every time (``except BaseException:`` inside a loop): it runs on,
  using a processor, until Python ends; restart Python (in a notebook, the kernel) to end it.

An answer stopped while it imports a module can leave that module half-done: importlib takes a
module whose import failed out of ``sys.modules``, but not one whose code caught the stop (an
optional import under a bare ``except:``, say) and finished without what it was importing, nor
one whose import is still running in a worker left behind. After a stop, every module whose
import was under way when the stop was sent, and that is still in ``sys.modules``, is taken out
of it (and off its package), so the next import runs it again from the start;
``Outcome.removed`` names them. While a worker left behind is still inside such an import,
that next import waits for it first: Python lets one thread at a time import a given module.

**No limit** where Python has no threads (WebAssembly builds such as Pyodide, which runs the
site's Run buttons): the answer runs in the caller's thread until it returns, since nothing
else could stop it there. An endless answer then never gives a verdict, and the page is stopped
by reloading it; nothing is half-imported by a stop, since there is none.

A separate process could always be killed, but it needs a function it can pickle (one typed
into a notebook is not) and a copy of every array, and it takes a while to start. An alarm
(``SIGALRM``) in the main thread, which an earlier version used, costs less per call and stops
a ``time.sleep`` too, but an answer that catches it or turns it off runs on in the checker's
own thread, and nothing can stop it there.
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import io
import linecache
import queue
import sys
import threading
import time
import warnings
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["AnswerStopped", "Outcome", "Printed", "Runner"]

STOP_GRACE = 0.2
"""Seconds to wait, after the time limit, for a worker thread to stop."""
RING_AGAIN = 0.05
"""Seconds between two stops once the time is up, for an answer that catches the first."""


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
        caught: After ``"timed out"``: whether a stop reached the answer and the answer went on
            (it caught [AnswerStopped][mynn.exercises.running.AnswerStopped]).
        where: After ``"timed out"``: the line of the answer it was running when the time was
            up, as ``"line 3: while True:"``, or ``""`` when it was not in the answer's own
            file (or there is no worker to look at).
        importing: After ``"timed out"``: the modules whose import was under way when the time
            was up, outermost first.
        removed: After ``"timed out"``: those of them that the stop left half-imported and that
            were taken out of ``sys.modules``.
    """

    status: str
    value: object = None
    error: BaseException | None = None
    stopped: bool = True
    warnings: list[str] = field(default_factory=list)
    caught: bool = False
    where: str = ""
    importing: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


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


def _stop_signal() -> type[AnswerStopped]:
    """A fresh subclass of AnswerStopped that counts how often it reached the answer.

    CPython creates the exception object when it arrives in the thread, so the count says
    whether a stop got there at all, and ``delivered > 0`` with an answer that went on means
    the answer caught it.
    """

    class Stop(AnswerStopped):
        delivered = 0

        def __init__(self, *args: object) -> None:
            super().__init__(*args)
            type(self).delivered += 1

    Stop.__name__ = Stop.__qualname__ = "AnswerStopped"
    return Stop


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
                self.results.put(self._answer(*job))
        except AnswerStopped:  # a stop that arrived after its call had ended: this one is done
            return

    @staticmethod
    def _answer(context: contextvars.Context, function: Callable, inputs: dict) -> Outcome:
        try:
            outcome = Outcome("returned", value=context.run(function, **inputs))
        except AnswerStopped as stop:
            outcome = Outcome("timed out", error=stop)
        except BaseException as error:  # the learner's code: report whatever it raised
            outcome = Outcome("raised", error=error)
        return outcome


class _Watch:
    """What the worker was doing when it was told to stop: its line, the imports under way."""

    def __init__(self, function: Callable) -> None:
        self.filename = getattr(getattr(function, "__code__", None), "co_filename", None)
        self.where = ""
        self.importing: dict[str, dict] = {}  # module name -> its globals, outermost first

    def look(self, thread: threading.Thread) -> None:
        frame = sys._current_frames().get(thread.ident)
        stack = []
        while frame is not None:
            stack.append(frame)
            frame = frame.f_back
        for frame in reversed(stack):  # outermost first
            name = frame.f_globals.get("__name__")
            if frame.f_code.co_name == "<module>" and isinstance(name, str):
                self.importing.setdefault(name, frame.f_globals)
        if not self.where:
            answer = [f for f in stack if f.f_code.co_filename == self.filename]
            if answer:
                line = answer[0].f_lineno
                text = linecache.getline(self.filename, line).strip()
                self.where = f"line {line}: {text}" if text else f"line {line}"

    def remove_half_imported(self) -> tuple[str, ...]:
        """Take out of sys.modules the modules whose import the stop cut short."""
        removed = []
        for name, namespace in self.importing.items():
            module = sys.modules.get(name)
            if module is None or getattr(module, "__dict__", None) is not namespace:
                continue  # importlib took it out already, or it is another module now
            del sys.modules[name]
            package, _, child = name.rpartition(".")
            parent = sys.modules.get(package) if package else None
            if parent is not None and getattr(parent, child, None) is module:
                delattr(parent, child)
            removed.append(name)
        return tuple(removed)


# Python compiled to WebAssembly (Pyodide in a browser, WASI) cannot start threads.
_NO_THREADS = sys.platform in ("emscripten", "wasi")

# Idle workers, kept for the next Runner: starting a thread for every check would cost more
# than the checks of a small exercise. A worker told to stop is never put back.
_IDLE: list[_Worker] = []
_IDLE_LOCK = threading.Lock()


def _take_worker() -> _Worker:
    with _IDLE_LOCK:
        while _IDLE:
            worker = _IDLE.pop()
            if worker.thread.is_alive():
                return worker
    return _Worker()


def _give_back(worker: _Worker) -> None:
    with _IDLE_LOCK:
        if len(_IDLE) < 4 and worker.thread.is_alive():
            _IDLE.append(worker)
            return
    worker.jobs.put(None)


class Runner:
    """Calls ``function`` one call at a time, each within ``time_limit`` seconds.

    Use it as a context manager: on entry it takes a worker thread (``mechanism`` is
    ``"thread"``, or ``"none"`` where Python has no threads), what is printed goes to
    ``printed``, and warnings are recorded, not shown, whatever the warning filters say (under
    ``filterwarnings = error`` they would otherwise become exceptions inside the answer); on exit
    all of it ends.

    Examples:
        >>> with Runner(lambda x: x + 1, time_limit=1.0) as runner:
        ...     outcome = runner.call({"x": 1})
        >>> outcome.status, outcome.value
        ('returned', 2)
        >>> def endless():
        ...     while True:
        ...         pass
        >>> with Runner(endless, time_limit=0.1) as runner:
        ...     outcome = runner.call({})
        >>> outcome.status, outcome.stopped, outcome.where
        ('timed out', True, 'line 2: while True:')

        An answer that catches every stop is left running, and the outcome says so:

        >>> import time
        >>> def stubborn():
        ...     end = time.monotonic() + 1.0  # ends by itself after a second
        ...     while time.monotonic() < end:
        ...         try:
        ...             while time.monotonic() < end:
        ...                 pass
        ...         except BaseException:
        ...             pass
        >>> with Runner(stubborn, time_limit=0.1) as runner:
        ...     outcome = runner.call({})
        >>> outcome.status, outcome.stopped, outcome.caught
        ('timed out', False, True)
    """

    def __init__(
        self, function: Callable, time_limit: float, printed: Printed | None = None
    ) -> None:
        self.function = function
        self.time_limit = time_limit
        self.printed = Printed() if printed is None else printed
        self.mechanism = ""
        self._worker: _Worker | None = None
        self._entered = False
        self._exit_stack = contextlib.ExitStack()
        self._warnings: list[warnings.WarningMessage] = []

    def __enter__(self) -> Runner:
        with contextlib.ExitStack() as stack:
            if _NO_THREADS:
                self.mechanism = "none"
            else:
                self.mechanism = "thread"
                self._worker = _take_worker()
                stack.callback(self._release_worker)
            self._warnings = stack.enter_context(warnings.catch_warnings(record=True))
            warnings.simplefilter("always")
            stack.enter_context(contextlib.redirect_stdout(self.printed))
            stack.enter_context(contextlib.redirect_stderr(self.printed))
            self._exit_stack = stack.pop_all()
        self._entered = True
        return self

    def __exit__(self, *exc_info) -> None:
        self._entered = False
        self._exit_stack.close()

    def _release_worker(self) -> None:
        if self._worker is not None:
            _give_back(self._worker)
            self._worker = None

    def call(self, inputs: dict) -> Outcome:
        """Call the answer with ``inputs`` as keyword arguments and wait for its outcome."""
        if not self._entered:
            raise RuntimeError("call() needs a Runner entered with `with`")
        seen = len(self._warnings)
        if self.mechanism == "none":
            outcome = self._call_here(inputs)
        else:
            if self._worker is None:  # the last one was told to stop: another one
                self._worker = _take_worker()
            outcome = self._call_in_worker(self._worker, inputs)
        if len(self._warnings) > seen:
            counts = Counter(f"{w.category.__name__}: {w.message}" for w in self._warnings[seen:])
            outcome.warnings = [
                text if n == 1 else f"{text} ({n} times)" for text, n in counts.items()
            ]
        return outcome

    def _call_here(self, inputs: dict) -> Outcome:
        """The answer in this thread, with no limit (mechanism "none")."""
        try:
            value = self.function(**inputs)
        except (Exception, SystemExit) as error:  # the learner's code: report what it raised
            return Outcome("raised", error=error)
        return Outcome("returned", value=value)

    def _call_in_worker(self, worker: _Worker, inputs: dict) -> Outcome:
        # the caller's context (numpy's errstate lives in it) goes with the call
        worker.jobs.put((contextvars.copy_context(), self.function, inputs))
        try:
            return worker.results.get(timeout=self.time_limit)
        except queue.Empty:
            pass
        except BaseException:  # Ctrl-C while waiting: do not leave the answer running
            self._worker = None
            self._stop(worker)
            raise
        self._worker = None  # told to stop: not used again, whatever it does next
        return self._stop(worker)

    def _stop(self, worker: _Worker) -> Outcome:
        """Stop the worker, again and again for ``STOP_GRACE`` s; what the call came to."""
        watch = _Watch(self.function)
        stop = _stop_signal()
        end = time.monotonic() + STOP_GRACE
        outcome = None
        while outcome is None:
            watch.look(worker.thread)
            _raise_in_thread(worker.thread, stop)
            wait = min(RING_AGAIN, end - time.monotonic())
            try:
                outcome = worker.results.get(timeout=max(wait, 0.0))
            except queue.Empty:
                if not worker.thread.is_alive():  # stopped between its call and its report
                    outcome = Outcome("timed out")
                elif time.monotonic() >= end:
                    break
        worker.jobs.put(None)  # it ends when it comes back, if it ever does
        if outcome is not None and outcome.status != "timed out" and not stop.delivered:
            return outcome  # it finished on its own, before any stop reached it
        result = Outcome(
            "timed out",
            stopped=outcome is not None,
            caught=stop.delivered > 0 and (outcome is None or outcome.status != "timed out"),
            where=watch.where,
            importing=tuple(watch.importing),
        )
        result.removed = watch.remove_half_imported()
        return result
