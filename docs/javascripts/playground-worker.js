// The playground's Web Worker (started by playground.js): Python and the training run here.
//
// It loads Pyodide, numpy and mynn from the site's own assets/pyodide/ folder with
// pyodide-start.js, as run-worker.js does, then drives browser_run.playground.Session:
// "setup" runs the part of the page's program before its training loop; "play" trains for a
// time budget, posts a frame (the pictures and the new losses) and yields, so that "pause",
// "step" or a new "setup" sent meanwhile is read before the next budget; "diagnose" measures
// mynn's signals.
/* global importScripts, startPython */
"use strict";

importScripts("pyodide-start.js");

let pyodide = null;
let Session = null;
let session = null;
let playing = false;
let generation = 0; // a new setup ends the loop of the old one
const BUDGET_MS = 70; // at most this much training between two pictures (about)

async function init(message) {
  pyodide = await startPython(message);
  Session = pyodide.pyimport("browser_run.playground").Session;
}

function toJs(proxy) {
  const value = proxy.toJs({ dict_converter: Object.fromEntries, create_proxies: false });
  proxy.destroy();
  return value;
}

function post(type, frame, extra) {
  const transfer = [];
  ["classes", "confidence", "curve"].forEach(function (key) {
    if (frame[key]) transfer.push(frame[key].buffer);
  });
  (frame.units || []).forEach(function (layer) {
    layer.forEach(function (unit) { transfer.push(unit.buffer); });
  });
  self.postMessage(Object.assign({ type: type, frame: frame }, extra || {}), transfer);
}

function pythonError(error) {
  const text = String((error && error.message) || error);
  const lines = text.trim().split("\n");
  return lines[lines.length - 1];
}

function setup(message) {
  playing = false;
  generation += 1;
  if (session) session.destroy();
  session = null;
  try {
    session = Session(message.program);
  } catch (error) {
    self.postMessage({ type: "error", text: pythonError(error) });
    return;
  }
  const data = toJs(session.data());
  const frame = toJs(session.frame());
  post("setup", frame, { data: data });
}

function advance(maxEpochs) {
  const frame = toJs(session.advance(BUDGET_MS, maxEpochs));
  post("frame", frame);
  return frame;
}

async function play() {
  const mine = generation;
  playing = true;
  while (playing && session && mine === generation) {
    let frame;
    try {
      frame = advance(1e9);
    } catch (error) {
      playing = false;
      self.postMessage({ type: "error", text: pythonError(error) });
      return;
    }
    if (frame.error) { playing = false; break; }
    // read the messages sent meanwhile (pause, step, a new setup) before the next budget
    await new Promise(function (resolve) { setTimeout(resolve, 0); });
  }
  self.postMessage({ type: "paused" });
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
  } else if (message.type === "setup") {
    setup(message);
  } else if (message.type === "play") {
    if (session && !playing) play();
  } else if (message.type === "pause") {
    playing = false;
  } else if (message.type === "step") {
    playing = false;
    if (session) {
      try {
        advance(1);
      } catch (error) {
        self.postMessage({ type: "error", text: pythonError(error) });
      }
    }
  } else if (message.type === "diagnose") {
    if (!session) return;
    try {
      const signals = session.diagnose();
      const list = signals.toJs({ dict_converter: Object.fromEntries });
      signals.destroy();
      self.postMessage({ type: "diagnosis", signals: list, epoch: session.epoch });
    } catch (error) {
      self.postMessage({ type: "diagnosis", signals: [], error: pythonError(error) });
    }
  }
};
