/* The pages' toolkit (window.pageKit), loaded before each page's own script on the wall, the
 * console, the phone page and the plan pages:
 * - api(): one call to the service as the signed-in person (the session cookie). A 401 sends
 *   the page to the sign-in form, which brings the person back here; any other answer comes
 *   back as {status, ok, body, etag}, the ETag for the next If-Match.
 * - refusal(): why a call was refused, in a sentence a town's operator reads.
 * - el(): an element built from text, never from HTML, so what the API says is shown as text.
 * - typedIn() / restoreTyped(): what a person typed or chose in some fields, and the focus and
 *   caret of the one being typed in, taken before a part of a page is drawn again and put back
 *   into the fields of the same ids after it (or the keys pressed next would go nowhere).
 * A page's own needs (the phone page's exceptions, the console's one-move-at-a-time guard) are
 * built on these, not beside them. */
"use strict";

(function () {
  const HAN = /[\u4e00-\u9fff]/;
  // The service's own refusals are Chinese; a request its schema refuses (a value out of range,
  // a missing field) is answered in the framework's English: said here by its status. A page
  // may name what it works on (`words`: "方案不存在" instead of "所请求的内容不存在").
  const BY_STATUS = {
    400: "请求无法读取", 403: "当前账号无权进行此操作", 404: "所请求的内容不存在",
    409: "当前状态不允许此操作", 412: "内容已被他人修改，请重新载入",
    413: "文件过大", 415: "文件类型不受支持", 422: "输入无效",
    428: "缺少版本号，请重新载入页面", 429: "请求过于频繁，请稍后再试",
  };

  /* Send the person to the sign-in form, to come back to this page afterwards. */
  function signIn() {
    const here = window.location.pathname + window.location.search;
    // slashes kept, as the page routes' own redirects write them; a query's `?&=` escaped
    const next = encodeURIComponent(here).replace(/%2F/g, "/");
    // replace, not assign: going back must not return to the page that was signed out
    window.location.replace(`/login?next=${next}`);
  }

  // A call made signed out rejects so that its caller goes no further (and its `finally` still
  // runs); one that nobody catches is no fault while the page is on its way to sign in.
  window.addEventListener("unhandledrejection", (event) => {
    if (event.reason && event.reason.signedOut) event.preventDefault();
  });

  /* One call to the service. `options` are fetch's, and `json` (a value) is sent as the JSON
   * body. Signed out (401): off to the sign-in form, and the promise is rejected so that the
   * caller goes no further. */
  async function api(path, options) {
    const {json, headers, ...rest} = options || {};
    const sent = {"Accept": "application/json", ...(headers || {})};
    if (json !== undefined) {
      sent["Content-Type"] = "application/json";
      rest.body = JSON.stringify(json);
    }
    const response = await fetch(path, {credentials: "same-origin", ...rest, headers: sent});
    if (response.status === 401) {
      signIn();
      const error = new Error("登录已失效，正在转到登录页");
      error.signedOut = true;
      throw error;
    }
    const body = await response.json().catch(() => ({}));
    return {status: response.status, ok: response.ok, body: body === null ? {} : body,
            etag: response.headers.get("ETag")};
  }

  /* The reason of a refused call (api's answer), always in Chinese: the service's own detail
   * when it is Chinese, else what the status means (`words` first, then the common ones). */
  function refusal(got, words) {
    const detail = got.body && typeof got.body.detail === "string" ? got.body.detail : "";
    if (HAN.test(detail)) return detail;
    if (got.status >= 500) return "服务暂时不可用，请稍后再试";
    return (words || {})[got.status] || BY_STATUS[got.status] || `请求未成功（HTTP ${got.status}）`;
  }

  /* An element: attributes (`class`, `dataset`, `on…` listeners, the rest as attributes; null,
   * undefined and false leave one out) and children (nodes, or anything else as its text). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function typedIn(fields) {
    const active = document.activeElement;
    return {
      values: fields.map((node) => ({id: node.id, value: node.value, files: node.files})),
      focus: fields.includes(active)
        ? {id: active.id, start: active.selectionStart, end: active.selectionEnd} : null,
    };
  }

  function restoreTyped({values, focus}) {
    for (const {id, value, files} of values) {
      const node = document.getElementById(id);
      if (!node) continue;
      if (node.type === "file") {  // a file input's value cannot be set, its files can
        if (files && files.length) node.files = files;
      } else node.value = value;
    }
    const node = focus && document.getElementById(focus.id);
    if (!node) return;
    node.focus();
    if (node.setSelectionRange && node.type !== "file" && focus.start !== null) {
      node.setSelectionRange(focus.start, focus.end);
    }
  }

  window.pageKit = Object.freeze({api, refusal, signIn, el, typedIn, restoreTyped});
}());
