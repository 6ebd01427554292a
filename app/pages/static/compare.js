// Several runs' curves overlaid (uPlot): one color per run, validation solid, training dashed.
(function () {
  "use strict";

  const payload = JSON.parse(document.getElementById("chart-data").textContent);
  const root = document.getElementById("chart");
  const PALETTE = ["#1f6fb2", "#d9631e", "#2e8b57", "#8e44ad"];
  const keys = Object.keys(payload.data).filter((key) => key !== "x");
  const series = keys.map((key) => {
    const [kind, index] = key.split(" ");
    const name = payload.names[Number(index)];
    return {
      label: `${name} ${kind === "val" ? "validation" : "training"}`,
      stroke: PALETTE[Number(index) % PALETTE.length],
      width: kind === "val" ? 2 : 1.5,
      dash: kind === "val" ? undefined : [6, 4],
      spanGaps: true,
    };
  });
  const opts = {
    width: Math.max(320, root.clientWidth),
    height: 380,
    scales: { x: { time: false } },
    axes: [{ label: "epoch" }, { label: "loss" }],
    series: [{ label: "epoch" }, ...series],
    cursor: { drag: { x: true, y: false } },
  };
  const plot = new uPlot(opts, [payload.data.x, ...keys.map((key) => payload.data[key])], root);
  window.lossgapChart = { plot: plot, keys: keys };
  window.addEventListener("resize", () => plot.setSize({ width: Math.max(320, root.clientWidth), height: 380 }));
})();
