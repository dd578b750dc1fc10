// The playground page: settings, the mynn program they make, and pictures of its training.
//
// The page (docs/playground.md) holds an empty <div id="mynn-playground">; the build
// (browser_run/hook.py) gives it the addresses of the site's Pyodide and mynn zip. This script
// builds the controls into it, writes the mynn program for the settings (the code panel) and
// sends it to the playground's Web Worker (playground-worker.js), which runs the program's
// set-up and trains it epoch by epoch; the worker's frames (predictions on a grid, the hidden
// units' outputs, the losses) are drawn here. The settings live in the page's query string.
// Material's `document$` fires on every page shown (instant navigation too), so the
// playground is built again whenever its page is shown.
(function () {
  "use strict";

  const WORKER_URL = new URL("playground-worker.js", document.currentScript.src).href;
  const ACTIVATIONS = ["ReLU", "LeakyReLU", "Tanh", "Sigmoid", "Linear"];
  const DATASETS = {
    spiral: { label: "Spiral (3 classes)", classes: 3 },
    circles: { label: "Two circles", classes: 2 },
    xor: { label: "XOR quadrants", classes: 2 },
    blobs: { label: "Gaussian blobs (3 classes)", classes: 3 },
    curve: { label: "Regression: a curve, one input", classes: 0 },
    custom: { label: "Only the points I add", classes: 0 },
  };
  const FEATURES = {
    x1: { label: "x1", code: "x1", oneInput: true },
    x2: { label: "x2", code: "x2", oneInput: false },
    x1sq: { label: "x1²", code: "x1 ** 2", oneInput: true },
    x2sq: { label: "x2²", code: "x2 ** 2", oneInput: false },
    x1x2: { label: "x1·x2", code: "x1 * x2", oneInput: false },
    sinx1: { label: "sin x1", code: "np.sin(x1)", oneInput: true },
    sinx2: { label: "sin x2", code: "np.sin(x2)", oneInput: false },
  };
  const OPTIMIZERS = {
    sgd: "SGD", adagrad: "Adagrad", rmsprop: "RMSProp", adam: "Adam",
  };
  const DEFAULTS = {
    data: "circles", noise: 0.1, n: 100, val: 0.5, seed: 1,
    layers: [{ units: 8, act: "Tanh", dropout: 0, l1: 0, l2: 0 },
             { units: 8, act: "Tanh", dropout: 0, l1: 0, l2: 0 }],
    features: ["x1", "x2"], opt: "adam", lr: 0.03, momentum: 0.9, batch: 10,
    dtype: "float64", points: [],
  };
  // class colours, readable on the light and the dark page
  const DEFAULT_EXTENT = 1.1; // the plot's half width before a data set sets it
  const COLOURS = [[33, 119, 200], [230, 120, 20], [40, 160, 80], [190, 60, 170], [150, 150, 40]];

  let worker = null;
  let ready = null;
  let state = null; // the playground on the page now

  // ---------------------------------------------------------------- settings and the URL

  function copy(settings) { return JSON.parse(JSON.stringify(settings)); }

  function number(text, fallback, low, high, integer) {
    let value = Number(text);
    if (text === null || text === "" || !Number.isFinite(value)) return fallback;
    if (integer) value = Math.round(value);
    return Math.min(high, Math.max(low, value));
  }

  function fromQuery(query) {
    const p = new URLSearchParams(query);
    const s = copy(DEFAULTS);
    if (p.has("data") && DATASETS[p.get("data")]) s.data = p.get("data");
    s.noise = number(p.get("noise"), s.noise, 0, 1, false);
    s.n = number(p.get("n"), s.n, 1, 500, true);
    // the validation share (older links named it "test")
    s.val = number(p.has("val") ? p.get("val") : p.get("test"), s.val, 0.1, 0.9, false);
    s.seed = number(p.get("seed"), s.seed, 0, 1e6, true);
    if (p.has("layers")) {
      const text = p.get("layers");
      s.layers = text === "" ? [] : text.split(",").slice(0, 6).map(function (item) {
        const parts = item.split("-");
        return {
          units: number(parts[0], 8, 1, 64, true),
          act: ACTIVATIONS.indexOf(parts[1]) >= 0 ? parts[1] : "ReLU",
          dropout: number(parts[2], 0, 0, 0.9, false),
          l1: number(parts[3], 0, 0, 1, false),
          l2: number(parts[4], 0, 0, 1, false),
        };
      });
    }
    if (p.has("f")) {
      const wanted = p.get("f").split(",").filter(function (f) { return FEATURES[f]; });
      if (wanted.length) s.features = wanted;
    }
    if (p.has("opt") && OPTIMIZERS[p.get("opt")]) s.opt = p.get("opt");
    s.lr = number(p.get("lr"), s.lr, 1e-5, 10, false);
    s.momentum = number(p.get("momentum"), s.momentum, 0, 0.99, false);
    s.batch = p.get("batch") === "all" ? "all" : number(p.get("batch"), s.batch, 1, 1000, true);
    if (p.get("dtype") === "float32") s.dtype = "float32";
    if (p.get("pts")) {
      s.points = p.get("pts").split(";").slice(0, 500).map(function (item) {
        return item.split(":").map(Number);
      }).filter(function (v) {
        return v.length === 3 && v.every(Number.isFinite) && Number.isInteger(v[2]) &&
          v[2] >= 0 && v[2] < classLimit(s);
      });
    }
    return s;
  }

  function toQuery(s) {
    const p = [];
    const set = function (key, value) {
      // , : and ; are left as they are: legal in a query, and the link stays readable
      p.push(key + "=" + encodeURIComponent(value).replace(/%2C/g, ",").replace(/%3A/g, ":")
        .replace(/%3B/g, ";"));
    };
    set("data", s.data);
    set("noise", String(s.noise));
    set("n", String(s.n));
    set("val", String(s.val));
    set("seed", String(s.seed));
    // units-activation[-dropout[-L1[-L2]]], trailing zeros left out
    set("layers", s.layers.map(function (l) {
      const parts = [l.units, l.act, l.dropout, l.l1, l.l2];
      while (parts.length > 2 && !parts[parts.length - 1]) parts.pop();
      return parts.join("-");
    }).join(","));
    set("f", s.features.join(","));
    set("opt", s.opt);
    set("lr", String(s.lr));
    if (s.opt === "sgd") set("momentum", String(s.momentum));
    set("batch", String(s.batch));
    if (s.dtype !== "float64") set("dtype", s.dtype);
    if (s.points.length) {
      set("pts", s.points.map(function (v) { return v.join(":"); }).join(";"));
    }
    return "?" + p.join("&");
  }

  // ---------------------------------------------------------------- the program

  function pyNumber(value) {
    const text = String(value);
    return /^-?\d+$/.test(text) ? text + ".0" : text;
  }

  function regression(s) {
    if (s.data === "curve") return true;
    return false;
  }

  function classCount(s) {
    if (DATASETS[s.data].classes) return DATASETS[s.data].classes;
    let top = 1;
    s.points.forEach(function (v) { top = Math.max(top, v[2]); });
    return top + 1;
  }

  // the classes an added point may have: the data set's, or 0 to 4 for added points only
  function classLimit(s) { return DATASETS[s.data].classes || 5; }

  function usedFeatures(s) {
    const one = regression(s);
    const used = s.features.filter(function (f) { return !one || FEATURES[f].oneInput; });
    return used.length ? used : ["x1"];
  }

  function program(s, epochs) {
    const reg = regression(s);
    const classes = classCount(s);
    const dtype = "np." + s.dtype;
    const features = usedFeatures(s);
    const lines = [];
    const names = new Set(["Dense", "Model"]);
    const data = [];
    if (s.data === "spiral") {
      data.push("X, y = spiral_classification(" + s.n + ", 3, noise=" + pyNumber(s.noise) +
                ", rng=SEED)");
    } else if (s.data === "circles" || s.data === "xor") {
      data.push("X, y = " + s.data + "(" + s.n + ", noise=" + pyNumber(s.noise) + ", rng=SEED)");
    } else if (s.data === "blobs") {
      data.push("X, y = blobs(" + s.n + ", 3, spread=" + pyNumber(s.noise) + ", rng=SEED)");
    } else if (s.data === "curve") {
      data.push("X, y = curve(" + s.n + ", noise=" + pyNumber(s.noise) + ", rng=SEED)");
    }
    const datasetImport = { spiral: "spiral_classification", circles: "circles", xor: "xor",
                            blobs: "blobs", curve: "curve" }[s.data];
    if (s.points.length && !reg) {
      const rows = s.points.map(function (v) {
        return "    [" + pyNumber(v[0]) + ", " + pyNumber(v[1]) + "],";
      });
      const labels = s.points.map(function (v) { return v[2]; });
      if (s.data === "custom") {
        data.push("X = np.array([\n" + rows.join("\n") + "\n])  # the points added on the page");
        data.push("y = np.array(" + JSON.stringify(labels).replace(/,/g, ", ") + ")");
      } else {
        data.push("added = np.array([\n" + rows.join("\n") + "\n])  # points added on the page");
        data.push("X = np.concatenate([X, added])");
        data.push("y = np.concatenate([y, " + JSON.stringify(labels).replace(/,/g, ", ") + "])");
      }
    }
    lines.push("import numpy as np", "");
    const hidden = s.layers.map(function (l) { return l.act; });
    hidden.forEach(function (name) { names.add(name); });
    if (s.layers.some(function (l) { return l.dropout > 0; })) names.add("Dropout");
    if (reg) { names.add("Linear"); names.add("MeanSquaredError"); }
    else { names.add("Softmax"); names.add("CategoricalCrossentropy");
           names.add("CategoricalAccuracy"); }
    names.add(OPTIMIZERS[s.opt]);
    lines.push("from mynn import " + Array.from(names).sort().join(", "));
    lines.push("from mynn.datasets import " +
               (datasetImport ? datasetImport + ", " : "") + "train_test_split");
    lines.push("");
    lines.push("SEED = " + s.seed);
    lines.push("DTYPE = " + dtype);
    lines.push("BATCH_SIZE = " + (s.batch === "all" ? "None  # the whole training part" :
                                  s.batch));
    lines.push("EPOCHS = " + epochs);
    lines.push("");
    data.forEach(function (line) { lines.push(line); });
    lines.push("# held out for validation; a test part would be looked at once, at the end");
    lines.push("X_train, X_val, y_train, y_val = train_test_split(");
    lines.push("    X, y, test_size=" + pyNumber(s.val) + ", rng=SEED");
    lines.push(")");
    lines.push("");
    lines.push("");
    lines.push("def features(X):");
    lines.push('    """The network\'s inputs: ' +
               features.map(function (f) { return FEATURES[f].label; }).join(", ") + '."""');
    lines.push("    x1 = X[:, 0]");
    if (features.some(function (f) { return !FEATURES[f].oneInput; })) {
      lines.push("    x2 = X[:, 1]");
    }
    lines.push("    columns = [" +
               features.map(function (f) { return FEATURES[f].code; }).join(", ") + "]");
    lines.push("    return np.column_stack(columns).astype(DTYPE)");
    lines.push("");
    lines.push("");
    lines.push("F_train, F_val = features(X_train), features(X_val)");
    const penalty = function (l) {
      return (l.l1 ? ", weight_regularizer_l1=" + pyNumber(l.l1) : "") +
             (l.l2 ? ", weight_regularizer_l2=" + pyNumber(l.l2) : "");
    };
    const layers = [];
    let width = features.length;
    s.layers.forEach(function (l, i) {
      layers.push("    Dense(" + width + ", " + l.units + ", rng=SEED + " + (i + 1) +
                  ", dtype=DTYPE" + penalty(l) + "),");
      layers.push("    " + l.act + "(),");
      if (l.dropout > 0) {
        layers.push("    Dropout(" + pyNumber(l.dropout) + ", rng=SEED + " + (i + 101) + "),");
      }
      width = l.units;
    });
    const outputs = reg ? 1 : classes;
    layers.push("    Dense(" + width + ", " + outputs + ", rng=SEED + " + (s.layers.length + 1) +
                ", dtype=DTYPE),");
    layers.push("    " + (reg ? "Linear" : "Softmax") + "(),");
    lines.push("model = Model([");
    layers.forEach(function (line) { lines.push(line); });
    lines.push("])");
    lines.push("model.set_loss(" + (reg ? "MeanSquaredError" : "CategoricalCrossentropy") +
               "())");
    let optimizer = OPTIMIZERS[s.opt] + "(learning_rate=" + pyNumber(s.lr);
    if (s.opt === "sgd") optimizer += ", momentum=" + pyNumber(s.momentum);
    lines.push("model.set_optimizer(" + optimizer + "))");
    if (!reg) lines.push("model.set_accuracy(CategoricalAccuracy())");
    lines.push("order = np.random.default_rng(SEED)  # the order of the samples, each epoch");
    lines.push("");
    lines.push("for epoch in range(1, EPOCHS + 1):");
    lines.push("    history = model.train(");
    lines.push("        F_train, y_train, epochs=1, batch_size=BATCH_SIZE, rng=order,");
    lines.push("        verbose=0,");
    lines.push("    )");
    lines.push("    val_loss, val_accuracy = model.evaluate(F_val, y_val)");
    lines.push("    if epoch % 10 == 0:");
    lines.push('        loss = history["loss"][0]');
    lines.push('        print(f"epoch {epoch}: loss {loss:.6f}, validation loss {val_loss:.6f}")');
    return lines.join("\n") + "\n";
  }

  function epochsFor(epoch) { return Math.max(10, Math.ceil(epoch / 10) * 10); }

  // ---------------------------------------------------------------- the worker

  function startWorker(root, status) {
    if (ready) return ready;
    ready = new Promise(function (resolve, reject) {
      worker = new Worker(WORKER_URL);
      worker.onmessage = function (event) {
        const message = event.data;
        if (message.type === "ready") resolve();
        else if (message.type === "failed") { ready = null; reject(new Error(message.error)); }
        else if (message.type === "status") status(message.text);
        else if (message.type === "log") console.log("[Python] " + message.text);
        else if (state) state.receive(message);
      };
      worker.onerror = function (event) {
        reject(new Error("the Python worker stopped: " + (event.message || "unknown error")));
        ready = null;
      };
      worker.postMessage({
        type: "init",
        indexURL: new URL(root.dataset.runtime, location.href).href,
        mynnURL: new URL(root.dataset.mynn, location.href).href,
      });
    });
    return ready;
  }

  // ---------------------------------------------------------------- building the page

  function element(tag, attributes, children) {
    const node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (key) {
      if (key === "text") node.textContent = attributes[key];
      else node.setAttribute(key, attributes[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function field(labelText, control, id) {
    control.id = id;
    return element("div", { class: "mynn-pg__field" }, [
      element("label", { for: id, text: labelText }), control,
    ]);
  }

  function numberInput(value, min, max, step) {
    return element("input", { type: "number", value: String(value), min: String(min),
                              max: String(max), step: String(step) });
  }

  function select(options, value) {
    const node = element("select");
    Object.keys(options).forEach(function (key) {
      const option = element("option", { value: key, text: options[key] });
      if (key === String(value)) option.selected = true;
      node.appendChild(option);
    });
    return node;
  }

  function labels(object) {
    const result = {};
    Object.keys(object).forEach(function (key) {
      result[key] = typeof object[key] === "string" ? object[key] : object[key].label;
    });
    return result;
  }

  function build(root) {
    const s = fromQuery(location.search);
    const st = {
      root: root, settings: s, epoch: 0, history: null, data: null, frame: null,
      playing: false, frames: [], diagnosis: null, lastDiagnosis: 0,
    };
    root.textContent = "";
    const status = element("p", { class: "mynn-pg__status", role: "status",
                                  text: "Starting Python (about 17 MB to load)…" });
    // --- controls
    const dataSelect = select(labels(DATASETS), s.data);
    const noise = numberInput(s.noise, 0, 1, 0.05);
    const n = numberInput(s.n, 1, 500, 10);
    const val = numberInput(s.val, 0.1, 0.9, 0.1);
    const seed = numberInput(s.seed, 0, 1000000, 1);
    const dataBox = element("fieldset", { class: "mynn-pg__box" }, [
      element("legend", { text: "Data" }),
      field("Data set", dataSelect, "pg-data"),
      field("Noise (blobs: spread)", noise, "pg-noise"),
      field("Points per class (curve: in all)", n, "pg-n"),
      field("Validation share", val, "pg-val"),
      field("Seed", seed, "pg-seed"),
    ]);
    const featureBoxes = {};
    const featureList = element("div", { class: "mynn-pg__features" });
    Object.keys(FEATURES).forEach(function (key) {
      const box = element("input", { type: "checkbox", id: "pg-f-" + key });
      box.checked = s.features.indexOf(key) >= 0;
      featureBoxes[key] = box;
      featureList.appendChild(element("span", {}, [
        box, element("label", { for: "pg-f-" + key, text: FEATURES[key].label }),
      ]));
    });
    const layerList = element("div", { class: "mynn-pg__layers" });
    const addLayer = element("button", { type: "button", class: "md-button",
                                         text: "Add a hidden layer" });
    const removeLayer = element("button", { type: "button", class: "md-button",
                                            text: "Remove the last" });
    const optSelect = select(OPTIMIZERS, s.opt);
    const lr = numberInput(s.lr, 0.00001, 10, 0.01);
    const momentum = numberInput(s.momentum, 0, 0.99, 0.1);
    const batch = element("input", { type: "text", value: String(s.batch), inputmode: "numeric",
                                     size: "5" });
    const dtypeSelect = select({ float64: "float64", float32: "float32" }, s.dtype);
    const netBox = element("fieldset", { class: "mynn-pg__box" }, [
      element("legend", { text: "Network" }),
      element("p", { class: "mynn-pg__hint", text: "Input features:" }), featureList,
      layerList,
      element("div", { class: "mynn-pg__row" }, [addLayer, removeLayer]),
      field("dtype", dtypeSelect, "pg-dtype"),
    ]);
    const optBox = element("fieldset", { class: "mynn-pg__box" }, [
      element("legend", { text: "Training" }),
      field("Optimizer", optSelect, "pg-opt"),
      field("Learning rate", lr, "pg-lr"),
      field("Momentum (SGD)", momentum, "pg-momentum"),
      field("Batch size (or all)", batch, "pg-batch"),
    ]);
    // --- the run's buttons and numbers
    const play = element("button", { type: "button", id: "pg-play",
                                     class: "md-button mynn-pg__play",
                                     text: "Play" });
    const step = element("button", { type: "button", id: "pg-step", class: "md-button",
                                     text: "One epoch" });
    const reset = element("button", { type: "button", id: "pg-reset", class: "md-button",
                                      text: "Reset" });
    const numbers = element("p", { class: "mynn-pg__numbers", "aria-live": "off" });
    const region = element("canvas", { width: "360", height: "360", class: "mynn-pg__plot",
                                       role: "img", tabindex: "-1",
                                       "aria-label": "Decision regions with the points" });
    const classSelect = element("select", { id: "pg-class" });
    const classField = element("div", { class: "mynn-pg__field" }, [
      element("label", { for: "pg-class", text: "A click on the plot adds a point of class" }),
      classSelect,
    ]);
    const csvSummary = element("summary");
    const unitCaption = element("p", { class: "mynn-pg__hint" });
    const legend = element("p", { class: "mynn-pg__legend" });
    const lossCanvas = element("canvas", { width: "360", height: "140", role: "img",
                                           class: "mynn-pg__curve",
                                           "aria-label": "Loss per epoch" });
    const accCanvas = element("canvas", { width: "360", height: "140", role: "img",
                                          class: "mynn-pg__curve",
                                          "aria-label": "Accuracy per epoch" });
    const units = element("div", { class: "mynn-pg__units" });
    const lossCaption = element("p", { class: "mynn-pg__hint" });
    const accCaption = element("p", { class: "mynn-pg__hint" });
    const csv = element("textarea", { id: "pg-csv", rows: "3",
                                      placeholder: "0.5, -0.2, 1" });
    const addCsv = element("button", { type: "button", class: "md-button", text: "Add these" });
    const clearPoints = element("button", { type: "button", class: "md-button",
                                            text: "Remove added points" });
    const diagnosisList = element("ul", { class: "mynn-pg__diagnosis" });
    // the code scrolls (Material's pre > code), so it takes the focus, for the keyboard
    const code = element("code", { class: "language-python", tabindex: "0",
                                   "aria-label": "The program" });
    const codeBlock = element("pre", { class: "mynn-pg__code" }, [code]);
    const copyButton = element("button", { type: "button", id: "pg-copy", class: "md-button",
                                           text: "Copy the program" });
    const csvBox = element("details", { class: "mynn-pg__csv" }, [
      csvSummary,
      element("label", { for: "pg-csv", text: "One point per line:" }), csv,
      element("div", { class: "mynn-pg__row" }, [addCsv, clearPoints]),
    ]);
    const picture = element("div", { class: "mynn-pg__picture" }, [
      element("div", { class: "mynn-pg__row" }, [play, step, reset]),
      numbers, region, legend,
      classField,
      csvBox,
      element("h2", { id: "pg-curves", text: "Loss and accuracy" }),
      lossCanvas, lossCaption, accCanvas, accCaption,
      element("h2", { id: "pg-units", text: "What each hidden unit computes" }),
      unitCaption,
      units,
      element("h2", { id: "pg-health", text: "What is going wrong?" }),
      element("p", { class: "mynn-pg__hint",
                     text: "mynn's diagnose on up to 256 training points, about once a " +
                           "second while it trains; a problem links to the guide's section " +
                           "where the page can name its likely cause." }),
      diagnosisList,
    ]);
    root.appendChild(status);
    root.appendChild(element("div", { class: "mynn-pg" }, [
      element("div", { class: "mynn-pg__controls" }, [dataBox, netBox, optBox]), picture,
    ]));
    root.appendChild(element("h2", { id: "pg-program", text: "The program" }));
    root.appendChild(element("p", { text: "These settings as a mynn program: run it with " +
      "Python and mynn to print every tenth epoch's losses. While training is stable they " +
      "are the page's to the printed digits. Your numpy and the browser's can round sums " +
      "differently in the last bits, and a run that jumps about (a learning rate far too " +
      "high) amplifies that: its later losses can differ from the page's." }));
    root.appendChild(copyButton);
    root.appendChild(codeBlock);

    function layerRows() {
      layerList.textContent = "";
      st.settings.layers.forEach(function (layer, i) {
        const units = numberInput(layer.units, 1, 64, 1);
        const act = select(labels(ACTIVATIONS.reduce(function (o, a) { o[a] = a; return o; },
                                                     {})), layer.act);
        const drop = numberInput(layer.dropout, 0, 0.9, 0.1);
        const l1 = numberInput(layer.l1, 0, 1, 0.001);
        const l2 = numberInput(layer.l2, 0, 1, 0.001);
        l1.addEventListener("change", function () {
          layer.l1 = number(l1.value, 0, 0, 1, false); changed();
        });
        l2.addEventListener("change", function () {
          layer.l2 = number(l2.value, 0, 0, 1, false); changed();
        });
        units.addEventListener("change", function () {
          layer.units = number(units.value, 8, 1, 64, true); changed();
        });
        act.addEventListener("change", function () { layer.act = act.value; changed(); });
        drop.addEventListener("change", function () {
          layer.dropout = number(drop.value, 0, 0, 0.9, false); changed();
        });
        layerList.appendChild(element("fieldset", { class: "mynn-pg__layer" }, [
          element("legend", { text: "Hidden layer " + (i + 1) }),
          field("Units", units, "pg-units-" + i),
          field("Activation", act, "pg-act-" + i),
          field("Dropout", drop, "pg-drop-" + i),
          field("L1 on its weights", l1, "pg-l1-" + i),
          field("L2 on its weights", l2, "pg-l2-" + i),
        ]));
      });
      addLayer.disabled = st.settings.layers.length >= 6;
      removeLayer.disabled = st.settings.layers.length === 0;
    }

    function classOptions() {
      const chosen = classSelect.value; // kept when the new menu still has it
      classSelect.textContent = "";
      const count = regression(st.settings) ? 0 : Math.max(classCount(st.settings),
                                                         st.settings.data === "custom" ? 3 : 0);
      for (let c = 0; c < Math.max(count, 1); c++) {
        classSelect.appendChild(element("option", { value: String(c), text: String(c) }));
      }
      if (chosen && Number(chosen) < Math.max(count, 1)) classSelect.value = chosen;
      classSelect.disabled = regression(st.settings);
      classField.hidden = csvBox.hidden = regression(st.settings); // no points to add there
      // added points only: no generated data, so no noise or size
      noise.disabled = n.disabled = st.settings.data === "custom";
      csvSummary.textContent = "Add points as CSV (x1, x2, class " +
        (st.settings.data === "custom" ? "0 to 4" : "0 to " + (classLimit(st.settings) - 1)) +
        ")";
      unitCaption.textContent = regression(st.settings) ?
        "Each unit's output against x, scaled to its own largest size." :
        "Each unit's output over the plane: orange where it is positive, blue where " +
        "negative (signs here, not classes), clear where 0; each map is scaled to its own " +
        "largest size.";
    }

    function read() {
      const s2 = st.settings;
      s2.data = dataSelect.value;
      s2.noise = number(noise.value, 0.1, 0, 1, false);
      s2.n = number(n.value, 100, 1, 500, true);
      s2.val = number(val.value, 0.5, 0.1, 0.9, false);
      s2.seed = number(seed.value, 1, 0, 1e6, true);
      const f = Object.keys(featureBoxes).filter(function (k) { return featureBoxes[k].checked; });
      s2.features = f.length ? f : ["x1"];
      s2.opt = optSelect.value;
      s2.lr = number(lr.value, 0.03, 1e-5, 10, false);
      s2.momentum = number(momentum.value, 0.9, 0, 0.99, false);
      s2.batch = batch.value.trim() === "all" ? "all" : number(batch.value, 10, 1, 1000, true);
      s2.dtype = dtypeSelect.value;
      // added points of a class the chosen data set does not have are dropped
      s2.points = s2.points.filter(function (v) { return v[2] < classLimit(s2); });
    }

    function showProgram() {
      code.textContent = program(st.settings, epochsFor(st.epoch));
    }

    function changed() {
      read();
      history.replaceState(history.state, "", toQuery(st.settings) + location.hash);
      momentum.disabled = st.settings.opt !== "sgd";
      classOptions();
      restart();
    }

    function restart() {
      st.epoch = 0;
      st.history = { loss: [], accuracy: [], val_loss: [], val_accuracy: [] };
      st.frame = null;
      st.data = null;
      st.playing = false;
      play.textContent = "Play";
      st.diagnosis = null;
      st.diagnosing = false; // a diagnosis asked for before this restart is not shown
      diagnosisList.textContent = "";
      showProgram();
      if (waitingForPoints()) return;
      numbers.textContent = "";
      if (worker && st.ready) worker.postMessage({ type: "setup", program: code.textContent });
      else drawAdded(); // until Python runs, the plot shows the points added so far
    }

    function waitingForPoints() {
      if (st.settings.data !== "custom" || st.settings.points.length >= 4) return false;
      numbers.textContent = "Add at least 4 points (click on the plot, or paste CSV): " +
        st.settings.points.length + " so far.";
      drawAdded();
      return true;
    }

    [dataSelect, noise, n, val, seed, optSelect, lr, momentum, batch, dtypeSelect]
      .forEach(function (control) { control.addEventListener("change", changed); });
    Object.keys(featureBoxes).forEach(function (k) {
      featureBoxes[k].addEventListener("change", changed);
    });
    addLayer.addEventListener("click", function () {
      if (st.settings.layers.length < 6) {
        st.settings.layers.push({ units: 8, act: "ReLU", dropout: 0, l1: 0, l2: 0 });
        layerRows(); changed();
      }
    });
    removeLayer.addEventListener("click", function () {
      st.settings.layers.pop(); layerRows(); changed();
    });
    // Python starts on the first Play or One epoch (nothing heavy loads with the page);
    // the action waits for the data
    function waitForData(action) {
      st.pending = action;
      start();
    }
    play.addEventListener("click", function () {
      if (!st.data) { waitForData("play"); return; }
      st.playing = !st.playing;
      play.textContent = st.playing ? "Pause" : "Play";
      worker.postMessage({ type: st.playing ? "play" : "pause" });
    });
    step.addEventListener("click", function () {
      if (!st.data) { waitForData("step"); return; }
      st.playing = false;
      play.textContent = "Play";
      worker.postMessage({ type: "step" });
    });
    reset.addEventListener("click", function () { restart(); });
    copyButton.addEventListener("click", function () {
      if (navigator.clipboard) navigator.clipboard.writeText(code.textContent);
      copyButton.textContent = "Copied";
      setTimeout(function () { copyButton.textContent = "Copy the program"; }, 1500);
    });
    function addPoints(points) {
      if (regression(st.settings)) return;
      points.forEach(function (v) { st.settings.points.push(v); });
      st.settings.points = st.settings.points.slice(-500);
      changed();
    }
    region.addEventListener("click", function (event) {
      if (regression(st.settings)) return;
      const extent = st.extent || DEFAULT_EXTENT; // before any data set is shown
      const box = region.getBoundingClientRect();
      const x = ((event.clientX - box.left) / box.width * 2 - 1) * extent;
      const y = -((event.clientY - box.top) / box.height * 2 - 1) * extent;
      addPoints([[Math.round(x * 100) / 100, Math.round(y * 100) / 100,
                  Number(classSelect.value)]]);
    });
    addCsv.addEventListener("click", function () {
      const points = [];
      csv.value.split(/\r?\n/).forEach(function (line) {
        const v = line.split(/[,;\t ]+/).filter(Boolean).map(Number);
        if (v.length === 3 && v.every(Number.isFinite) && Number.isInteger(v[2]) &&
            v[2] >= 0 && v[2] < classLimit(st.settings)) {
          points.push([v[0], v[1], v[2]]);
        }
      });
      if (points.length) { addPoints(points); csv.value = ""; }
    });
    clearPoints.addEventListener("click", function () {
      st.settings.points = []; changed();
    });

    // --- drawing
    function colour(name) {
      return getComputedStyle(root).getPropertyValue(name).trim() || "#888";
    }

    // the points added so far, before there is a data set to train on
    function drawAdded() {
      const ctx = region.getContext("2d");
      ctx.clearRect(0, 0, region.width, region.height);
      const ex = st.extent || DEFAULT_EXTENT;
      const pts = st.settings.points;
      drawPoints(ctx, pts.flatMap(function (v) { return [v[0], v[1]]; }),
                 pts.map(function (v) { return v[2]; }),
                 function (x) { return (x / ex + 1) / 2 * region.width; },
                 function (y) { return (1 - y / ex) / 2 * region.height; },
                 true, colour("--md-default-fg-color"));
    }

    function drawRegions() {
      const ctx = region.getContext("2d");
      const W = region.width, H = region.height;
      ctx.clearRect(0, 0, W, H);
      const frame = st.frame, data = st.data;
      if (!frame || !data) return;
      const fg = colour("--md-default-fg-color");
      if (data.regression) {
        const ex = data.extent, ey = data.y_extent;
        const px = function (x) { return (x / ex + 1) / 2 * W; };
        const py = function (y) { return (1 - y / ey) / 2 * H; };
        ctx.strokeStyle = colour("--md-default-fg-color--lightest");
        ctx.beginPath(); ctx.moveTo(0, H / 2); ctx.lineTo(W, H / 2); ctx.stroke();
        drawCurvePoints(ctx, data.X_train, data.y_train, px, py, true);
        drawCurvePoints(ctx, data.X_val, data.y_val, px, py, false);
        const curve = frame.curve;
        ctx.strokeStyle = "rgb(" + COLOURS[1].join(",") + ")";
        ctx.lineWidth = 2.5;
        ctx.beginPath();
        for (let i = 0; i < curve.length; i++) {
          const x = -ex + 2 * ex * i / (curve.length - 1);
          if (i === 0) ctx.moveTo(px(x), py(curve[i])); else ctx.lineTo(px(x), py(curve[i]));
        }
        ctx.stroke();
        ctx.lineWidth = 1;
        return;
      }
      const size = Math.round(Math.sqrt(frame.classes.length));
      const image = ctx.createImageData(size, size);
      const k = data.classes;
      for (let i = 0; i < frame.classes.length; i++) {
        const c = COLOURS[frame.classes[i] % COLOURS.length];
        // confidence 1/k (a guess) is clear, 1 is strong
        const strength = Math.max(0, (frame.confidence[i] - 1 / k) / (1 - 1 / k));
        image.data[4 * i] = c[0]; image.data[4 * i + 1] = c[1]; image.data[4 * i + 2] = c[2];
        image.data[4 * i + 3] = Math.round(40 + 120 * strength);
      }
      const small = st.scratch || (st.scratch = document.createElement("canvas"));
      small.width = size; small.height = size;
      small.getContext("2d").putImageData(image, 0, 0);
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(small, 0, 0, W, H);
      const ex = data.extent;
      const px = function (x) { return (x / ex + 1) / 2 * W; };
      const py = function (y) { return (1 - y / ex) / 2 * H; };
      drawPoints(ctx, data.X_train, data.y_train, px, py, true, fg);
      drawPoints(ctx, data.X_val, data.y_val, px, py, false, fg);
    }

    function drawPoints(ctx, X, y, px, py, filled, fg) {
      for (let i = 0; i < y.length; i++) {
        const c = COLOURS[y[i] % COLOURS.length];
        ctx.beginPath();
        ctx.arc(px(X[2 * i]), py(X[2 * i + 1]), filled ? 3.5 : 4, 0, 2 * Math.PI);
        if (filled) {
          ctx.fillStyle = "rgb(" + c.join(",") + ")";
          ctx.fill();
          ctx.strokeStyle = fg;
          ctx.lineWidth = 0.8;
          ctx.stroke();
        } else {
          ctx.strokeStyle = "rgb(" + c.join(",") + ")";
          ctx.lineWidth = 2;
          ctx.stroke();
        }
      }
      ctx.lineWidth = 1;
    }

    function drawCurvePoints(ctx, X, y, px, py, filled) {
      const c = "rgb(" + COLOURS[0].join(",") + ")";
      for (let i = 0; i < y.length; i++) {
        ctx.beginPath();
        ctx.arc(px(X[i]), py(y[i]), 3, 0, 2 * Math.PI);
        if (filled) { ctx.fillStyle = c; ctx.fill(); }
        else { ctx.strokeStyle = c; ctx.lineWidth = 1.5; ctx.stroke(); }
      }
      ctx.lineWidth = 1;
    }

    function drawCurves(canvas, train, valValues, top) {
      const ctx = canvas.getContext("2d");
      const W = canvas.width, H = canvas.height, pad = 4;
      ctx.clearRect(0, 0, W, H);
      canvas.dataset.top = "";
      const values = train.concat(valValues).filter(Number.isFinite);
      ctx.strokeStyle = colour("--md-default-fg-color--lighter");
      ctx.strokeRect(0.5, 0.5, W - 1, H - 1);
      if (!values.length) return;
      const high = top || Math.max.apply(null, values) * 1.05 || 1;
      canvas.dataset.top = String(high);
      const count = Math.max(train.length, 2);
      [[train, COLOURS[0], []], [valValues, COLOURS[1], [6, 4]]].forEach(function (item) {
        const series = item[0];
        ctx.strokeStyle = "rgb(" + item[1].join(",") + ")";
        ctx.setLineDash(item[2]);
        ctx.lineWidth = 2;
        ctx.beginPath();
        let started = false;
        for (let i = 0; i < series.length; i++) {
          if (!Number.isFinite(series[i])) continue;
          const x = pad + (W - 2 * pad) * i / (count - 1);
          const yv = H - pad - (H - 2 * pad) * Math.min(series[i], high) / high;
          if (!started) { ctx.moveTo(x, yv); started = true; } else ctx.lineTo(x, yv);
        }
        ctx.stroke();
      });
      ctx.setLineDash([]);
      ctx.lineWidth = 1;
    }

    function drawUnits() {
      const frame = st.frame;
      if (!frame) return;
      const layers = frame.units || [];
      const wanted = layers.map(function (l) { return l.length; }).join(",");
      if (units.dataset.shape !== wanted) {
        units.textContent = "";
        units.dataset.shape = wanted;
        layers.forEach(function (layer, i) {
          const row = element("div", { class: "mynn-pg__unit-row" });
          const total = st.settings.layers[i] ? st.settings.layers[i].units : layer.length;
          row.appendChild(element("p", { text: "Layer " + (i + 1) + (total > layer.length ?
            " (the first " + layer.length + " of " + total + " units)" : "") }));
          layer.forEach(function (_, j) {
            row.appendChild(element("canvas", {
              width: "40", height: "40", role: "img",
              "aria-label": "Layer " + (i + 1) + ", unit " + (j + 1),
            }));
          });
          units.appendChild(row);
        });
      }
      const canvases = units.querySelectorAll("canvas");
      let index = 0;
      layers.forEach(function (layer) {
        layer.forEach(function (values) {
          const canvas = canvases[index++];
          const ctx = canvas.getContext("2d");
          if (st.data.regression) {
            ctx.clearRect(0, 0, 40, 40);
            ctx.strokeStyle = colour("--md-default-fg-color");
            ctx.beginPath();
            for (let i = 0; i < values.length; i++) {
              const x = 40 * i / (values.length - 1), y = 20 - 18 * values[i];
              if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
            }
            ctx.stroke();
            return;
          }
          const size = Math.round(Math.sqrt(values.length));
          const image = ctx.createImageData(size, size);
          for (let i = 0; i < values.length; i++) {
            const v = values[i];
            const c = v >= 0 ? COLOURS[1] : COLOURS[0];
            image.data[4 * i] = c[0]; image.data[4 * i + 1] = c[1];
            image.data[4 * i + 2] = c[2];
            image.data[4 * i + 3] = Math.round(255 * Math.min(1, Math.abs(v)));
          }
          const small = st.unitScratch || (st.unitScratch = document.createElement("canvas"));
          small.width = size; small.height = size;
          small.getContext("2d").putImageData(image, 0, 0);
          ctx.clearRect(0, 0, 40, 40);
          ctx.drawImage(small, 0, 0, 40, 40);
        });
      });
    }

    function fmt(value, digits) {
      if (!Number.isFinite(value)) return "–";
      return Math.abs(value) >= 1e4 ? value.toExponential(2) : value.toFixed(digits);
    }

    function showNumbers() {
      const h = st.history;
      const last = h.loss.length - 1;
      let text = "Epoch " + st.epoch;
      if (last >= 0) {
        text += " · loss " + fmt(h.loss[last], 4) + " (validation " + fmt(h.val_loss[last], 4) + ")";
        if (!st.data.regression) {
          text += " · accuracy " + fmt(h.accuracy[last], 3) + " (validation " +
                  fmt(h.val_accuracy[last], 3) + ")";
        }
      }
      numbers.textContent = text;
      numbers.dataset.epoch = String(st.epoch);
      if (last >= 0) numbers.dataset.valAccuracy = String(h.val_accuracy[last]);
    }

    function showDiagnosis(signals, error, epoch) {
      diagnosisList.textContent = "";
      if (epoch !== undefined && signals.length) {
        diagnosisList.appendChild(element("li", {
          text: epoch ? "Measured after epoch " + epoch + ":" : "Measured before training:" }));
      }
      const problems = signals.filter(function (s2) { return !s2.ok; });
      if (error) diagnosisList.appendChild(element("li", { text: error }));
      if (!signals.length) return;
      if (!problems.length) {
        diagnosisList.appendChild(element("li", {
          text: "Every signal is in its healthy range (" + signals.length + " measured)." }));
      }
      problems.forEach(function (s2) {
        const item = element("li", {}, [
          element("strong", { text: s2.name + (s2.where ? " (" + s2.where + ")" : "") + ": " }),
          document.createTextNode(s2.message + " "),
        ]);
        if (s2.section) {
          item.appendChild(element("a", { href: "../guides/training-goes-wrong/#" + s2.section,
                                          text: "Why, and what to try" }));
        }
        diagnosisList.appendChild(item);
      });
    }

    // what each curve is (Model.train's history against Model.evaluate)
    function curveCaption(loss) {
      const layers = st.settings.layers;
      const dropout = layers.some(function (l) { return l.dropout > 0; });
      const penalty = loss && layers.some(function (l) { return l.l1 || l.l2; });
      return "Solid: training, over the epoch's samples, batch by batch while the weights " +
        "change" +
        (dropout ? ", with Dropout on" : "") + (penalty ? ", plus the L1/L2 penalty" : "") +
        ". Dashed: validation, the model at the epoch's end" +
        (dropout ? ", Dropout off" : "") + (penalty ? ", no penalty" : "") + ".";
    }

    function draw() {
      drawRegions();
      const h = st.history;
      drawCurves(lossCanvas, h.loss, h.val_loss, 0);
      lossCaption.textContent = "Loss per epoch, from 0 at the bottom to " +
        (lossCanvas.dataset.top ? Number(lossCanvas.dataset.top).toPrecision(3) : "–") +
        " at the top. " + curveCaption(true);
      accCaption.textContent = "Accuracy per epoch, from 0 at the bottom to 1 at the top. " +
        curveCaption(false);
      if (!st.data.regression) drawCurves(accCanvas, h.accuracy, h.val_accuracy, 1);
      accCanvas.hidden = accCaption.hidden = st.data.regression;
      drawUnits();
      showNumbers();
    }

    st.receive = function (message) {
      if (message.type === "setup") {
        const d = message.data;
        d.classes = regression(st.settings) ? 0 : classCount(st.settings);
        st.data = d;
        st.extent = d.extent;
        st.frame = message.frame;
        st.history = { loss: [], accuracy: [], val_loss: [], val_accuracy: [] };
        st.epoch = 0;
        legend.textContent = d.regression ?
          "Filled: training points, rings: validation points, line: the network's prediction." :
          "Filled: training points, rings: validation points; the colour of the plane: the class " +
          "the network predicts there (stronger where it is surer).";
        status.textContent = "Ready: " + (d.y_train.length) + " training and " +
          d.y_val.length + " validation points.";
        draw();
        const pending = st.pending;
        st.pending = null;
        if (pending === "play") play.click();
        else if (pending === "step") step.click();
      } else if (message.type === "frame") {
        const f = message.frame;
        Object.keys(st.history).forEach(function (key) {
          st.history[key] = st.history[key].concat(f[key]);
        });
        st.epoch = f.epoch;
        st.frame = f;
        st.frames.push(performance.now());
        if (st.frames.length > 200) st.frames.shift();
        if (f.error) {
          st.playing = false;
          play.textContent = "Play";
          showDiagnosis([], "Training stopped: " + f.error);
          const link = element("a", { href: "../guides/training-goes-wrong/" +
                                      "#1-the-learning-rate-is-too-high",
                                      text: "Why, and what to try" });
          diagnosisList.firstChild.appendChild(document.createTextNode(" "));
          diagnosisList.firstChild.appendChild(link);
        }
        draw();
        if (Number(code.textContent.match(/EPOCHS = (\d+)/)[1]) !== epochsFor(st.epoch)) {
          showProgram();
        }
        const now = performance.now();
        if (st.playing && now - st.lastDiagnosis > 1000) {
          st.lastDiagnosis = now;
          st.diagnosing = true;
          worker.postMessage({ type: "diagnose" });
        }
      } else if (message.type === "diagnosis") {
        if (st.diagnosing && !(st.frame && st.frame.error)) {
          st.diagnosing = false;
          showDiagnosis(message.signals, message.error, message.epoch);
        }
      } else if (message.type === "error") {
        status.textContent = "Python says: " + message.text;
        st.playing = false;
        play.textContent = "Play";
      }
    };

    layerRows();
    classOptions();
    momentum.disabled = s.opt !== "sgd";
    showProgram();
    waitingForPoints();
    state = st;
    // for the tests: the run's numbers as the page has them
    root.playground = st;
    st.query = function () { return toQuery(st.settings); };
    if (!root.dataset.runtime) {
      status.textContent = "Python cannot run on this build of the site: " +
        (root.dataset.unavailable || "its Pyodide files are missing") + ".";
      return;
    }
    function start() {
      startWorker(root, function (text) { status.textContent = text; }).then(function () {
        if (st.ready) return;
        st.ready = true;
        if (state === st) restart();
      }, function (error) {
        status.textContent = "Python could not start: " + error.message;
      });
    }
    if (ready) start(); // Python runs already (started on an earlier visit of the page)
    else {
      status.textContent = "Play or One epoch starts Python in this page (about 17 MB to " +
        "load); until then the page has loaded nothing heavy.";
    }
  }

  function attach() {
    const root = document.getElementById("mynn-playground");
    if (!root) {
      // another page: the worker (kept for a return) stops training
      if (worker) worker.postMessage({ type: "pause" });
      state = null;
      return;
    }
    if (root.playground) return;
    build(root);
  }

  if (typeof document$ !== "undefined") {
    document$.subscribe(attach); // eslint-disable-line no-undef
  } else {
    document.addEventListener("DOMContentLoaded", attach);
  }
})();
