// The Web Worker behind the Run buttons (started by run.js on the first click).
//
// It loads Pyodide from the site's own assets/pyodide/<version>/ folder (indexURL), then
// numpy (checked by Pyodide against the sha256 in pyodide-lock.json), then unpacks mynn and
// browser_run/runner.py from the zip the build wrote. Each "run" message runs one block with
// browser_run.runner.run_block; what the block prints is posted back as it is printed.
// A block that imports a package the site serves (matplotlib) loads it first.
// Running here keeps the page responsive while a block trains a network.
/* global importScripts, startPython */
"use strict";

importScripts("pyodide-start.js");

let pyodide = null;
let runBlock = null;
let findImports = null;
let served = {}; // import name -> Pyodide package name, for the packages the site serves
let sizes = {}; // Pyodide package name -> bytes its loading downloads
const loaded = new Set(["numpy"]);

async function init(message) {
  served = message.imports;
  sizes = message.packageBytes || {};
  pyodide = await startPython(message);
  // No screen in a worker: matplotlib draws with Agg (the pages ask for it too).
  pyodide.runPython("import os; os.environ['MPLBACKEND'] = 'Agg'");
  runBlock = pyodide.pyimport("browser_run.runner").run_block;
  findImports = pyodide.pyimport("pyodide.code").find_imports;
}

async function run(message) {
  const wanted = new Set();
  let imports = null;
  try {
    imports = findImports(message.code);
  } catch (error) {
    // code that does not parse: the runner reports the SyntaxError with the page's line
  }
  for (const name of imports || []) {
    const root = name.split(".")[0];
    if (served[root] && !loaded.has(served[root])) wanted.add(served[root]);
  }
  if (imports) imports.destroy();
  if (wanted.size) {
    const names = Array.from(wanted);
    const bytes = names.reduce(function (sum, name) { return sum + (sizes[name] || 0); }, 0);
    self.postMessage({
      type: "status", id: message.id,
      text: "Loading " + names.join(", ") +
        (bytes ? " (about " + (bytes / 1e6).toFixed(0) + " MB, once)" : "") + "…",
    });
    await pyodide.loadPackage(names, { messageCallback: function () {} });
    names.forEach(function (name) { loaded.add(name); });
    if (wanted.has("matplotlib")) {
      // its first import builds a font cache and says so: here, not in the block's output
      pyodide.runPython("import matplotlib.font_manager");
    }
    self.postMessage({ type: "status", id: message.id, text: "Running…" });
  }
  const write = function (stream, text) {
    self.postMessage({ type: "out", id: message.id, stream: stream, text: text });
  };
  const fixtures = pyodide.toPy(message.fixtures);
  try {
    return runBlock(
      message.chain, message.fresh, message.code, message.filename, message.firstLine,
      fixtures, write
    );
  } finally {
    fixtures.destroy();
  }
}

self.onmessage = async function (event) {
  const message = event.data;
  if (message.type === "init") {
    try {
      await init(message);
      self.postMessage({ type: "ready" });
    } catch (error) {
      self.postMessage({ type: "failed", error: String((error && error.message) || error) });
    }
  } else if (message.type === "run") {
    let error;
    try {
      error = await run(message);
    } catch (failure) {
      error = String((failure && failure.message) || failure);
    }
    self.postMessage({ type: "done", id: message.id, error: error || null });
  }
};
