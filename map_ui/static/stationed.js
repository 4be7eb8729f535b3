/* The stationed staff page (派驻人员考核): each rating form sends the party's score of the
 * month to the service, and the row shows the stored rating and the new total, or the status
 * line says why it was refused. Nothing else on the page changes. */
"use strict";

(function () {
  const {api, refusal, el} = window.pageKit;
  const table = document.getElementById("stationed");
  const status = document.getElementById("status");
  const month = table.dataset.month;

  function shown(part) {
    if (part.score === null) return [el("span", {class: "unrated"}, "未评")];
    const who = part.rater + (part.note ? `：${part.note}` : "");
    return [`${part.score} 分 → ${part.points}`, el("br"), el("span", {class: "muted"}, who)];
  }

  async function save(event) {
    event.preventDefault();
    const form = event.target;
    const {worker, party} = form.dataset;
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      const got = await api(
        `/api/v1/assessment/stationed/${encodeURIComponent(worker)}?month=${month}`,
        {method: "PUT", json: {party, score: Number(form.score.value), note: form.note.value}});
      if (!got.ok) {
        status.textContent = `未保存：${refusal(got, {404: "没有可查看的该派驻人员"})}`;
        return;
      }
      const row = form.closest("tr");
      row.querySelector(`td[data-party="${party}"] .shown`).replaceChildren(
        ...shown(got.body[party]));
      row.querySelector("td.total").textContent = String(got.body.total);
      status.textContent = `已保存：${got.body.worker_name} ${party === "town" ? "镇评分" : "部门评分"} ` +
        `${got.body[party].score} 分，总分 ${got.body.total}`;
    } finally {
      button.disabled = false;
    }
  }

  for (const form of table.querySelectorAll("form.rate")) form.addEventListener("submit", save);
}());
