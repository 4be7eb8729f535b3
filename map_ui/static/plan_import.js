/* The plan list's import: a .geojson or .gpkg becomes a new draft (POST /api/v1/plans/import).
   A file whose only defects are rings folded by rounding is refused with `repairable`: the
   refusal offers the import repaired within a tolerance, and the editor then lists the
   repairs made (handed over through plan_api.js). */
"use strict";

(function () {
  const form = document.getElementById("import-plan");
  if (!form) return;  // a reader's list: no import
  const { api, el } = window.pageKit;  // page.js
  const { refusal, keepRepairs } = window.planApi;  // plan_api.js
  const $ = (id) => document.getElementById(id);
  const config = JSON.parse($("plan-list-config").textContent);
  let busy = false;

  function showRefusal(got) {
    const problems = Array.isArray(got.body.problems) ? got.body.problems : [];
    $("import-error").textContent = `导入失败：${refusal(got)}`;
    $("import-problems").replaceChildren(...problems.map((problem) => el("li", {
      class: "pe-problem-item", dataset: {type: problem.type},
    }, el("b", {}, config.problems[problem.type] || problem.type), " ",
    (problem.grids || []).join("、"),
    problem.message ? el("div", {class: "pe-problem-message"}, problem.message) : null)));
    $("import-repair").hidden = got.body.repairable !== true;
    $("import-refused").hidden = false;
    form.dataset.refused = got.body.repairable === true ? "repairable" : "defect";
  }

  async function send(repair) {
    const file = $("import-file").files[0];
    if (!file) {
      showRefusal({status: 0, body: {detail: "请选择一个 .geojson 或 .gpkg 文件"}});
      return;
    }
    const tolerance = Number($("import-tolerance").value);
    if (repair && !(tolerance > 0 && tolerance <= config.tolerance.max)) {
      $("import-error").textContent = `容差须大于 0 米且不超过 ${config.tolerance.max} 米`;
      return;
    }
    const body = new FormData();
    body.append("file", file, file.name);
    const name = $("import-name").value.trim();
    if (name) body.append("name", name);
    if (repair) {
      body.append("repair", "true");
      body.append("tolerance_m", String(tolerance));
    }
    busy = true;
    form.dataset.busy = "true";
    try {
      const got = await api("/api/v1/plans/import", {method: "POST", body});
      if (!got.ok) {
        showRefusal(got);
        return;
      }
      const repairs = got.body.repairs || [];
      if (repairs.length) keepRepairs(got.body.id, repairs, tolerance);
      window.location.assign(`/plans/${got.body.id}/edit`);
    } finally {
      busy = false;
      delete form.dataset.busy;
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!busy) send(false);
  });
  $("import-file").addEventListener("change", () => {
    $("import-refused").hidden = true;  // a new file: the last refusal was of another
    delete form.dataset.refused;
  });
  $("import-repair-run").addEventListener("click", () => { if (!busy) send(true); });
}());
