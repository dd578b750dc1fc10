// Run buttons: every Python block that pytest runs can be edited and run in the page.
//
// The build (browser_run/hook.py) marks each such block `data-mynn-block="i"` and adds the
// page's list of blocks as JSON (#mynn-run-blocks, in data-blocks). For each block: its
// fence's line; its chain, named by the chain's first block (a block starts a fresh
// namespace or continues the one before, exactly as pytest runs them); the pytest fixtures
// it asks for; whether its output is HTML (a figure); and its code if the page hides it.
//
// Nothing heavy loads with the page. The first click starts a Web Worker
// (run-worker.js) that loads Pyodide, numpy and mynn from the site's own assets/pyodide/
// folder; later clicks reuse it, on this page and on pages reached by instant navigation.
// Material's `document$` fires on the first load and after every instant-navigation swap,
// so the buttons are attached again to each new page.
//
// What a Run does: the block runs in its chain's namespace. If the blocks before it in the
// chain have just run, in order, with the code they show now, only the block runs.
// Otherwise the chain starts afresh and runs them first, so a block always prints what it
// would print under pytest with the code on the page as it now is.
(function () {
  "use strict";

  const WORKER_URL = new URL("run-worker.js", document.currentScript.src).href;
  let worker = null;
  let ready = null; // Promise of the started worker
  let nextId = 0;
  const pending = new Map(); // message id -> {output, done}
  let queue = Promise.resolve(); // blocks run one at a time
  let cancelStart = null; // rejects the worker's start, for Stop
  const STOPPED = "Stopped. Python was ended, and with it every variable the blocks had " +
    "made; the next Run starts it again (and runs the blocks before that one first).";
  let current = null; // the page being shown: {manifest, blocks, chains}

  function seconds(ms) {
    return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + " s";
  }

  function startWorker(manifest, status) {
    if (ready) return ready;
    ready = new Promise(function (resolve, reject) {
      cancelStart = reject;
      worker = new Worker(WORKER_URL);
      worker.onmessage = function (event) {
        const message = event.data;
        if (message.type === "ready") resolve();
        else if (message.type === "failed") {
          worker.terminate();
          ready = null; // a later click tries again
          reject(new Error(message.error));
        }
        else if (message.type === "status") {
          // a run's own status (a package loading) goes to that run's block
          const job = message.id !== undefined ? pending.get(message.id) : null;
          if (job) job.status(message.text);
          else if (message.id === undefined) status(message.text);
        }
        else if (message.type === "log") console.log("[Python] " + message.text);
        else if (message.type === "out") {
          pending.get(message.id).output(message.stream, message.text);
        }
        else if (message.type === "done") {
          const job = pending.get(message.id);
          pending.delete(message.id);
          job.done(message.error || null);
        }
      };
      worker.onerror = function (event) {
        const error = new Error("the Python worker stopped: " + (event.message || "unknown error"));
        reject(error);
        pending.forEach(function (job) { job.done(String(error.message)); });
        pending.clear();
        ready = null;
      };
      worker.postMessage({
        type: "init",
        indexURL: new URL(manifest.runtime, location.href).href,
        mynnURL: new URL(manifest.mynn, location.href).href,
        imports: manifest.imports,
        packageBytes: manifest.packageBytes,
      });
    });
    return ready;
  }

  // End the worker and whatever it runs; its jobs end with STOPPED.
  function stopWorker() {
    if (!worker) return;
    worker.terminate();
    worker = null;
    ready = null;
    if (cancelStart) cancelStart(new Error(STOPPED));
    cancelStart = null;
    pending.forEach(function (job) { job.done(STOPPED); });
    pending.clear();
  }

  function runInWorker(request, output, status) {
    return new Promise(function (resolve) {
      const id = ++nextId;
      pending.set(id, { output: output, done: resolve, status: status });
      worker.postMessage(Object.assign({ type: "run", id: id }, request));
    });
  }

  // --- one block's controls -------------------------------------------------------------

  function makeEditable(code) {
    try {
      code.contentEditable = "plaintext-only";
    } catch (error) {
      code.contentEditable = "true"; // browsers without plaintext-only
    }
    code.spellcheck = false;
    code.setAttribute("autocapitalize", "off");
    code.setAttribute("autocorrect", "off");
    code.setAttribute("aria-label", "Python code, editable");
  }

  // What a block is about, for the name of its Run button: its first comment, else its
  // first line of code that is not an import.
  function summary(text) {
    const lines = text.split("\n").map(function (line) { return line.trim(); })
      .filter(function (line) { return line; });
    const comment = lines.find(function (line) { return line.startsWith("#"); });
    const code = lines.find(function (line) { return !/^(import|from)\s/.test(line); });
    const words = (comment ? comment.replace(/^#+\s*/, "") : code || lines[0] || "").trim();
    return words.length > 70 ? words.slice(0, 69) + "…" : words;
  }

  function attachBlock(element, meta, index, number) {
    const code = element.querySelector("code");
    const original = code.innerHTML;
    makeEditable(code);
    // The output the page was built with (markdown-exec prints it right after the code):
    // marked once the reader has run the block, so two outputs are never taken for one.
    let built = null;
    if (meta.built) {
      const next = element.nextElementSibling;
      const looksBuilt = next && (meta.output === "html"
        ? next.matches("svg, img, figure, p") && next.querySelector("svg, img") !== null ||
          next.matches("svg, img")
        : next.matches(".language-text.highlight"));
      if (looksBuilt) built = next;
    }

    const bar = document.createElement("div");
    bar.className = "mynn-run";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "mynn-run__button md-button";
    button.textContent = "Run";
    button.setAttribute("aria-label", "Run block " + number + ": " + summary(code.textContent));
    button.title = "Run this block in your browser (Ctrl+Enter in the code)";
    const stop = document.createElement("button");
    stop.type = "button";
    stop.className = "mynn-run__stop md-button";
    stop.textContent = "Stop";
    stop.title = "End Python and this run (the next Run starts Python again)";
    stop.hidden = true;
    stop.addEventListener("click", function () {
      stopWorker();
      button.focus(); // the Stop button hides itself: the focus goes back to Run
    });
    const undo = document.createElement("button");
    undo.type = "button";
    undo.className = "mynn-run__undo md-button";
    undo.textContent = "Undo edits";
    undo.hidden = true;
    const status = document.createElement("span");
    status.className = "mynn-run__status";
    status.setAttribute("role", "status");
    bar.append(button, stop, undo, status);
    const output = document.createElement("div");
    output.className = "mynn-run__output";
    output.hidden = true;
    // announced to a screen reader as it fills (politely: after what it is reading)
    output.setAttribute("role", "region");
    output.setAttribute("aria-live", "polite");
    output.setAttribute("aria-label", "Output of block " + number);
    element.after(bar, output);

    // Keyboard: Tab moves through the page as everywhere else, until the reader chooses to
    // edit (Enter, or a click into the code); while editing, Tab indents, and Escape stops
    // editing, so that Tab moves on again. The hint under the block says which is which.
    let editing = false;
    const hint = document.createElement("span");
    hint.className = "mynn-run__hint";
    hint.hidden = true; // shown while the code has the focus
    bar.append(hint);
    function setEditing(on) {
      editing = on;
      element.classList.toggle("mynn-run--editing", on);
      hint.textContent = on
        ? "Editing: Tab indents, Escape stops editing, Ctrl+Enter runs"
        : "Enter to edit the code, Ctrl+Enter to run";
    }
    code.addEventListener("focus", function () { setEditing(false); hint.hidden = false; });
    code.addEventListener("blur", function () { setEditing(false); hint.hidden = true; });
    code.addEventListener("pointerdown", function () { setTimeout(setEditing, 0, true); });
    code.addEventListener("input", function () {
      undo.hidden = false;
      if (!editing) setEditing(true); // typing is choosing to edit
    });
    code.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey || event.shiftKey)) {
        event.preventDefault();
        button.click();
      } else if (event.key === "Enter" && !editing) {
        event.preventDefault(); // the first Enter starts editing, the next ones break lines
        setEditing(true);
      } else if (event.key === "Tab" && !event.shiftKey && editing) {
        event.preventDefault();
        document.execCommand("insertText", false, "    ");
      } else if (event.key === "Escape" && editing) {
        setEditing(false);
      }
    });
    undo.addEventListener("click", function () {
      code.innerHTML = original;
      undo.hidden = true;
    });
    button.addEventListener("click", function () {
      // aria-disabled, not disabled: a disabled button loses the keyboard focus
      if (button.getAttribute("aria-disabled") !== "true") runFrom(index);
    });
    return {
      meta: meta,
      code: function () { return code.textContent; },
      button: button,
      stop: stop,
      status: status,
      output: output,
      built: built,
    };
  }

  function hiddenBlock(meta) {
    // a block whose code the page does not show (markdown-exec without source=)
    return {
      meta: meta, code: function () { return meta.code; }, button: null, status: null, output: null,
      built: null, stop: null,
    };
  }

  function markBuilt(block) {
    if (!block.built || block.built.previousElementSibling.classList.contains("mynn-run__built-label")) {
      return;
    }
    block.built.classList.add("mynn-run__built");
    const label = document.createElement("p");
    label.className = "mynn-run__built-label";
    label.textContent = "What this block showed when the page was built:";
    block.built.before(label);
  }

  function clearOutput(block) {
    if (!block.output) return null;
    markBuilt(block);
    block.output.hidden = false;
    block.output.replaceChildren();
    block.output.classList.remove("mynn-run__output--failed");
    const pre = document.createElement("pre");
    block.output.append(pre);
    return pre;
  }

  function showError(block, text) {
    if (!block.output) return;
    block.output.hidden = false;
    block.output.classList.add("mynn-run__output--failed");
    const pre = document.createElement("pre");
    pre.className = "mynn-run__error";
    pre.textContent = text;
    block.output.append(pre);
  }

  function setStatus(block, text) {
    if (block.status) block.status.textContent = text;
  }

  // --- running --------------------------------------------------------------------------

  function plan(page, index) {
    const chainId = page.blocks[index].meta.chain;
    const chain = [];
    page.blocks.forEach(function (block, i) {
      if (i <= index && block.meta.chain === chainId) chain.push(i);
    });
    const before = chain.slice(0, -1);
    const ran = page.chains.get(chainId);
    const upToDate = ran !== undefined && ran !== null && ran.length === before.length &&
      before.every(function (i, k) {
        return ran[k][0] === i && ran[k][1] === page.blocks[i].code();
      });
    return upToDate ? { steps: [index], fresh: false } : { steps: chain, fresh: true };
  }

  function refuse(page, index) {
    const manifest = page.manifest;
    if (manifest.unavailable) {
      return "Run is not available on this copy of the site: " + manifest.unavailable;
    }
    for (const i of plan(page, index).steps) {
      if (page.blocks[i].meta.refuse) {
        return page.blocks[i].meta.refuse;
      }
      const missing = page.blocks[i].meta.fixtures.filter(function (name) {
        return manifest.fixtures.indexOf(name) < 0;
      });
      if (missing.length) {
        const where = i === index ? "This block"
          : "A block above, which this one continues,";
        return where + " needs files on your own machine (its data, or what the tests check " +
          "it with: " + missing.join(", ") + "), so it does not run in the browser. Paste it " +
          "into Python on your machine.";
      }
    }
    return null;
  }

  function runFrom(index) {
    const page = current;
    const block = page.blocks[index];
    const refusal = refuse(page, index);
    if (refusal) {
      clearOutput(block);
      block.output.replaceChildren();
      showError(block, refusal);
      setStatus(block, "Cannot run here");
      return queue;
    }
    block.button.setAttribute("aria-disabled", "true");
    block.stop.hidden = false;
    setStatus(block, "Waiting…");
    queue = queue.then(function () { return execute(page, index); }).catch(function (error) {
      console.error(error);
    }).finally(function () {
      block.button.removeAttribute("aria-disabled");
      block.stop.hidden = true;
    });
    return queue;
  }

  async function execute(page, index) {
    const clicked = page.blocks[index];
    const starting = !ready;
    const firstRun = " (the first run loads about 17 MB)";
    if (starting) setStatus(clicked, "Starting Python" + firstRun + "…");
    const startedPython = performance.now();
    try {
      await startWorker(page.manifest, function (text) {
        setStatus(clicked, text.replace(/…$/, "") + firstRun + "…");
      });
    } catch (error) {
      clearOutput(clicked);
      if (error.message === STOPPED) {
        showError(clicked, STOPPED);
        setStatus(clicked, "Stopped");
      } else {
        showError(clicked, "Python could not start: " + error.message);
        setStatus(clicked, "Failed");
      }
      return;
    }
    if (page !== current) return; // the reader has moved to another page
    const pythonStart = starting
      ? ", after starting Python in " + seconds(performance.now() - startedPython) : "";
    const started = performance.now();
    const { steps, fresh } = plan(page, index);
    if (fresh) page.chains.set(clicked.meta.chain, []);
    for (let k = 0; k < steps.length; k++) {
      const i = steps[k];
      const block = page.blocks[i];
      const code = block.code();
      const first = performance.now();
      if (i !== index) {
        setStatus(block, "Running (a block further down continues it)…");
      } else {
        setStatus(block, steps.length > 1 ? "Running, after the blocks before it…" : "Running…");
      }
      const pre = clearOutput(block);
      let html = "";
      const error = await runInWorker(
        {
          chain: page.manifest.page + ":" + block.meta.chain,
          fresh: fresh && k === 0,
          code: code,
          filename: page.manifest.page,
          firstLine: block.meta.line + 1,
          fixtures: block.meta.fixtures,
        },
        function (stream, text) {
          if (!pre) return;
          if (block.meta.output === "html" && stream === "stdout") {
            html += text;
            return;
          }
          if (stream === "stderr") {
            const span = document.createElement("span");
            span.className = "mynn-run__stderr";
            span.textContent = text;
            pre.append(span);
          } else {
            pre.append(text);
          }
        },
        function (text) { setStatus(block, text); }
      );
      if (html && block.output) {
        const figure = document.createElement("div");
        figure.className = "mynn-run__html";
        figure.innerHTML = html; // what the reader's own code printed, as the build shows it
        block.output.append(figure);
      }
      if (pre && !pre.childNodes.length) pre.remove();
      if (error) {
        const stopped = error === STOPPED;
        if (stopped) page.chains.clear(); // every namespace went with the worker
        else page.chains.set(block.meta.chain, null); // half-run: the next Run starts afresh
        showError(block, error);
        setStatus(block, (stopped ? "Stopped" : "Failed") + " after " +
          seconds(performance.now() - first));
        if (i !== index) {
          clearOutput(clicked).remove();
          showError(clicked, stopped
            ? "Not run: stopped while a block above, which this one continues, was running."
            : "Not run: a block above, which this one continues, failed (its message is " +
              "under it).");
          setStatus(clicked, "Not run");
        }
        return;
      }
      page.chains.get(block.meta.chain).push([i, code]);
      if (block.output && !block.output.childNodes.length) {
        const pre = document.createElement("pre");
        pre.className = "mynn-run__quiet";
        pre.textContent = "(no output)";
        block.output.append(pre);
      }
      setStatus(block, "Ran in " + seconds(performance.now() - first) +
        (i !== index ? ", before the block further down that continues it" : ""));
    }
    const before = steps.length - 1;
    setStatus(clicked, "Ran in " + seconds(performance.now() - started) +
      (before ? ", with the " + (before === 1 ? "block" : before + " blocks") +
        " before it that it continues" : "") +
      pythonStart);
  }

  // --- each page ------------------------------------------------------------------------

  function attach(body) {
    const data = body.querySelector("#mynn-run-blocks");
    if (!data) {
      current = null;
      return;
    }
    const manifest = JSON.parse(data.dataset.blocks);
    const elements = new Map();
    body.querySelectorAll("[data-mynn-block]").forEach(function (element) {
      elements.set(Number(element.dataset.mynnBlock), element);
    });
    const page = { manifest: manifest, blocks: [], chains: new Map() };
    let number = 0;
    manifest.blocks.forEach(function (meta, index) {
      const element = elements.get(index);
      page.blocks.push(element ? attachBlock(element, meta, index, ++number) : hiddenBlock(meta));
    });
    current = page;
  }

  document$.subscribe(function ({ body }) {
    attach(body);
  });
})();
