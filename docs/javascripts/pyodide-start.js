// Starting Python in a Web Worker, shared by run-worker.js (the Run buttons) and
// playground-worker.js (the Playground); each loads this file with importScripts.
//
// startPython(message) loads Pyodide from the site's own assets/pyodide/<version>/ folder
// (message.indexURL), then numpy (checked by Pyodide against the sha256 in
// pyodide-lock.json), and unpacks the zip the build wrote (message.mynnURL: mynn and
// browser_run) into site-packages. It posts "status" messages on the way and the
// interpreter's own prints as "log" messages, and resolves to the Pyodide instance.
/* global importScripts, loadPyodide */
"use strict";

async function startPython(message) {
  self.postMessage({ type: "status", text: "Starting Python…" });
  importScripts(message.indexURL + "pyodide.js");
  const log = function (text) { self.postMessage({ type: "log", text: text }); };
  const pyodide = await loadPyodide({ indexURL: message.indexURL, stdout: log, stderr: log });
  self.postMessage({ type: "status", text: "Loading numpy and mynn…" });
  const [, archive] = await Promise.all([
    pyodide.loadPackage("numpy", { messageCallback: function () {} }),
    fetch(message.mynnURL).then(function (response) {
      if (!response.ok) throw new Error(message.mynnURL + ": HTTP " + response.status);
      return response.arrayBuffer();
    }),
  ]);
  const sitePackages = pyodide.runPython("import sysconfig; sysconfig.get_paths()['purelib']");
  pyodide.unpackArchive(archive, "zip", { extractDir: sitePackages });
  return pyodide;
}
