/* What the plan pages (the list with its import, the editor) share: the API call with the
   session cookie (signed out: back to the sign-in form), a refusal in words a town's operator
   reads, and the repairs an import made, handed from the list to the new draft's editor. */
"use strict";

(function () {
  const HAN = /[\u4e00-\u9fff]/;
  // the service's own refusals are Chinese; a request its schema refuses (a tolerance out of
  // range, a missing field) is answered in the framework's English: said here by its status
  const BY_STATUS = {
    400: "请求无法读取", 403: "当前账号无权进行此操作", 404: "方案不存在",
    409: "方案当前状态不允许此操作", 412: "方案已被他人修改，请重新载入",
    413: "文件过大", 415: "文件类型不受支持", 422: "输入无效",
    428: "缺少版本号，请重新载入页面", 429: "请求过于频繁，请稍后再试",
  };

  async function api(path, options, next) {
    const response = await fetch(path, {credentials: "same-origin", ...(options || {}),
      headers: {"Accept": "application/json", ...((options || {}).headers || {})}});
    if (response.status === 401) {
      window.location.assign(`/login?next=${next || window.location.pathname}`);
      throw new Error("signed out");
    }
    const body = await response.json().catch(() => ({}));
    return {status: response.status, ok: response.ok, body,
            etag: response.headers.get("ETag")};
  }

  /* The reason of a refused call (api's answer), always in Chinese. */
  function refusal(got) {
    const detail = got.body && typeof got.body.detail === "string" ? got.body.detail : "";
    if (HAN.test(detail)) return detail;
    if (got.status >= 500) return "服务暂时不可用，请稍后再试";
    return BY_STATUS[got.status] || `请求未成功（HTTP ${got.status}）`;
  }

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

  window.planApi = {api, refusal, keepRepairs, takeRepairs};
}());
