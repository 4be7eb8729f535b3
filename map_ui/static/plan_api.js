/* What the plan pages (the list with its import, the editor) share on top of page.js: a
   refusal said of a plan (page.js says the rest), and the repairs an import made, handed from
   the list to the new draft's editor. */
"use strict";

(function () {
  // what a status means when the refused thing is a plan (the common words are page.js's)
  const PLAN_WORDS = {
    404: "方案不存在", 409: "方案当前状态不允许此操作", 412: "方案已被他人修改，请重新载入",
  };

  /* The reason of a refused plan call (pageKit.api's answer), always in Chinese. */
  const refusal = (got) => window.pageKit.refusal(got, PLAN_WORDS);

  // the tab's session storage carries them across the page change, read once
  const repairsKey = (planId) => `plan-import-repairs:${planId}`;

  function keepRepairs(planId, repairs, toleranceM) {
    try {
      sessionStorage.setItem(repairsKey(planId), JSON.stringify(
        {repairs, tolerance_m: toleranceM}));
    } catch (error) { /* storage off: the editor shows the plan without the list */ }
  }

  function takeRepairs(planId) {
    try {
      const kept = sessionStorage.getItem(repairsKey(planId));
      sessionStorage.removeItem(repairsKey(planId));
      return kept ? JSON.parse(kept) : null;
    } catch (error) {
      return null;
    }
  }

  window.planApi = {refusal, keepRepairs, takeRepairs};
}());
