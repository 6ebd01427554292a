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
