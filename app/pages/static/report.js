// The run report's chart (uPlot) and live job progress. The data comes prepared by the server
// (app/pages/chart.py): one x axis, series aligned with nulls, marks in epochs.
(function () {
  "use strict";

  const payload = JSON.parse(document.getElementById("chart-data").textContent);
  const root = document.getElementById("chart");
  const COLORS = {
    steps: "rgba(120, 144, 176, 0.45)",
    train: "#1f6fb2",
    train_shifted: "#1f6fb2",
    val: "#d9631e",
    band: "rgba(217, 99, 30, 0.12)",
    best: "#2e8b57",
    onset: "#b03a2e",
    stopped: "#7d3c98",
    nonfinite: "#d62728",
    gap: "rgba(176, 58, 46, 0.07)",
    gapLabel: "rgba(176, 58, 46, 0.8)",
  };
  const SERIES = [
    ["steps", { label: "step loss", stroke: COLORS.steps, width: 1, points: { show: false } }],
    ["train", { label: "training loss", stroke: COLORS.train, width: 2 }],
    ["train_shifted", { label: "training, shifted ½ epoch", stroke: COLORS.train_shifted, width: 1.5, dash: [6, 4] }],
    ["val_high", { label: "validation + noise", stroke: "transparent", points: { show: false } }],
    ["val_low", { label: "validation − noise", stroke: "transparent", points: { show: false } }],
    ["val", { label: "validation loss", stroke: COLORS.val, width: 2 }],
  ];

  function present() {
    return SERIES.filter(([key]) => key in payload.data);
  }

  function marks() {
    // One line per epoch: marks at the same epoch share it, their labels joined.
    const byEpoch = new Map();
    const add = (epoch, label, color) => {
      const mark = byEpoch.get(epoch);
      if (mark) mark[1] += ` · ${label}`;
      else byEpoch.set(epoch, [epoch, label, color]);
    };
    if (payload.overfitting_onset !== null) add(payload.overfitting_onset, "overfitting begins", COLORS.onset);
    if (payload.best_epoch !== null) add(payload.best_epoch, "best validation", COLORS.best);
    if (payload.stopped_at !== null) add(payload.stopped_at, "stopped", COLORS.stopped);
    for (const epoch of payload.nonfinite) add(epoch, "NaN", COLORS.nonfinite);
    return [...byEpoch.values()];
  }

  function drawMarks(u) {
    const ctx = u.ctx;
    const top = u.bbox.top;
    const bottom = top + u.bbox.height;
    ctx.save();
    if (payload.gap_region) {
      const [from, to] = payload.gap_region.map((e) => u.valToPos(e, "x", true));
      ctx.fillStyle = COLORS.gap;
      ctx.fillRect(from, top, Math.max(to - from, 2 * devicePixelRatio), bottom - top);
      ctx.fillStyle = COLORS.gapLabel;
      ctx.font = `${11 * devicePixelRatio}px sans-serif`;
      ctx.textAlign = "right";
      ctx.fillText("gap measured here", to - 3 * devicePixelRatio, top + 26 * devicePixelRatio);
    }
    ctx.font = `${11 * devicePixelRatio}px sans-serif`;
    ctx.textAlign = "left";
    ctx.textBaseline = "alphabetic";
    ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
    for (const [epoch, label, color] of marks()) {
      const x = u.valToPos(epoch, "x", true);
      if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
      ctx.strokeStyle = color;
      ctx.fillStyle = color;
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, bottom);
      ctx.stroke();
      ctx.fillText(label, x + 3 * devicePixelRatio, top + 12 * devicePixelRatio);
    }
    ctx.restore();
  }

  function positive() {
    return present().every(([key]) => payload.data[key].every((v) => v === null || v > 0));
  }

  let chart = null;

  function draw(log) {
    if (chart) chart.destroy();
    const series = present();
    const keys = series.map(([key]) => key);
    const opts = {
      width: Math.max(320, root.clientWidth),
      height: 360,
      scales: { x: { time: false }, y: { distr: log ? 3 : 1 } },
      axes: [{ label: "epoch" }, { label: "loss" }],
      series: [{ label: "epoch" }, ...series.map(([, s]) => ({ spanGaps: true, ...s }))],
      hooks: { draw: [drawMarks] },
      cursor: { drag: { x: true, y: false } },
    };
    if (keys.includes("val_high") && keys.includes("val_low")) {
      opts.bands = [{ series: [keys.indexOf("val_high") + 1, keys.indexOf("val_low") + 1], fill: COLORS.band }];
    }
    const data = [payload.data.x, ...keys.map((key) => payload.data[key])];
    chart = new uPlot(opts, data, root);
    window.lossgapChart = { plot: chart, keys: keys };
  }

  const logToggle = document.getElementById("log-scale");
  if (!positive()) {
    logToggle.disabled = true;
    logToggle.parentElement.title = "a loss at or below zero has no logarithm";
  }
  logToggle.addEventListener("change", () => draw(logToggle.checked));
  document.getElementById("download-png").addEventListener("click", (event) => {
    const link = event.currentTarget;
    link.href = chart.ctx.canvas.toDataURL("image/png");
    link.download = `${document.title.split(" · ")[0]}-curves.png`;
  });
  window.addEventListener("resize", () => chart.setSize({ width: Math.max(320, root.clientWidth), height: 360 }));
  draw(false);

  // The re-evaluation's small charts: loss histograms of both splits, the shuffled-split null.
  const probe = JSON.parse(document.getElementById("probe-data").textContent);
  window.lossgapProbeCharts = {};
  function small(id, axes, series, data, hooks) {
    const box = document.getElementById(id);
    const opts = {
      width: Math.max(280, box.parentElement.clientWidth - 10),
      height: 200,
      scales: { x: { time: false } },
      axes: axes.map((label) => ({ label: label })),
      series: [{ label: axes[0] }, ...series],
      hooks: hooks || {},
    };
    window.lossgapProbeCharts[id] = new uPlot(opts, data, box);
  }
  if (probe.histograms) {
    const h = probe.histograms;
    const last = (values) => [...values, values[values.length - 1]];
    const stepped = uPlot.paths.stepped({ align: 1 });
    small(
      "histograms",
      ["loss", "share of samples"],
      [
        { label: "training", stroke: COLORS.train, paths: stepped, width: 1.5 },
        { label: "validation", stroke: COLORS.val, paths: stepped, width: 1.5 },
      ],
      [h.edges, last(h.train), last(h.val)],
    );
  }
  if (probe.null) {
    const n = probe.null;
    small(
      "null",
      ["validation mean loss", "density"],
      [{ label: "random splits", stroke: COLORS.steps, fill: "rgba(120, 144, 176, 0.15)", width: 1.5 }],
      [n.x, n.density],
      {
        draw: [
          (u) => {
            const x = u.valToPos(n.observed, "x", true);
            u.ctx.save();
            u.ctx.strokeStyle = COLORS.val;
            u.ctx.lineWidth = 2 * devicePixelRatio;
            u.ctx.beginPath();
            u.ctx.moveTo(x, u.bbox.top);
            u.ctx.lineTo(x, u.bbox.top + u.bbox.height);
            u.ctx.stroke();
            u.ctx.restore();
          },
        ],
      },
    );
  }

  const start = document.querySelector("form.reevaluate");
  if (start) {
    start.addEventListener("submit", async (event) => {
      event.preventDefault();
      const response = await fetch(`/v1/runs/${start.dataset.run}/reevaluations`, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ loss: start.elements.loss.value }),
      });
      if (response.ok) {
        window.location.reload();
      } else {
        const body = await response.json().catch(() => ({}));
        document.getElementById("reevaluate-error").textContent =
          (body.error && body.error.message) || `refused (${response.status})`;
      }
    });
  }

  const job = document.querySelector(".job[data-job]");
  if (job) {
    const bar = document.getElementById("job-progress");
    const stage = document.getElementById("job-stage");
    const poll = async () => {
      const response = await fetch(`/v1/jobs/${job.dataset.job}`, { credentials: "same-origin" });
      if (!response.ok) return;
      const state = await response.json();
      bar.value = state.progress;
      stage.textContent = state.stage || state.status;
      if (state.status === "succeeded" || state.status === "failed") {
        window.location.reload();
      } else {
        setTimeout(poll, 1000);
      }
    };
    setTimeout(poll, 1000);
  }
})();
