/* The phone page's outbox (window.workerOutbox): what the grid worker makes — reports with
 * their photos, actions on tasks with theirs, parts of a patrol track — is first kept in the
 * phone's IndexedDB, then sent; without signal it waits there and goes out when the network
 * is back (the `online` event, each page load, and every `retry_seconds`).
 *
 * Each item is given its Idempotency-Key (and each of its photos one) when it is made, and
 * keeps it through every attempt: the service makes a write once per key and answers a repeat
 * with what the first made, so an item sent again after its answer was lost (the signal
 * dropped mid-request, the page was closed) is never made twice. An action also carries the
 * version the worker saw (If-Match): if someone else moved the task meanwhile it is refused.
 *
 * An item that fails for want of network, or on a passing trouble of the service (5xx, 429,
 * a repeat still in flight), waits and is tried again; one the service refuses for another
 * reason is marked failed with that reason, shown, and not tried again unless the worker
 * asks (重试) or lets it go (放弃). Items belong to the account that made them: another
 * account signed in on the same phone does not send them.
 *
 * Also kept here, per account: the page's last answers (categories, grid, tasks) for use
 * offline, and the patrol being recorded, so that a closed page loses none of it. */
"use strict";

(function () {
  const {api, refusal, el} = window.pageKit;
  const DB_NAME = "gis-worker";
  const MAX_TRIES = 8;  // passing troubles of the service before an item is marked failed
  const TRANSIENT = new Set([408, 425, 429, 500, 502, 503, 504]);

  let username = null;
  let database = null;
  const listeners = [];

  // ---- IndexedDB: two stores, `outbox` (items by key) and `saved` (name → value) ----
  function db() {
    if (!database) {
      database = new Promise((resolve, reject) => {
        const opening = indexedDB.open(DB_NAME, 1);
        opening.onupgradeneeded = () => {
          opening.result.createObjectStore("outbox", {keyPath: "id"});
          opening.result.createObjectStore("saved", {keyPath: "name"});
        };
        opening.onsuccess = () => resolve(opening.result);
        opening.onerror = () => reject(opening.error);
      });
    }
    return database;
  }

  async function run(store, mode, work) {
    const opened = await db();
    return new Promise((resolve, reject) => {
      const transaction = opened.transaction(store, mode);
      const asked = work(transaction.objectStore(store));
      transaction.oncomplete = () => resolve(asked ? asked.result : undefined);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  }
  const put = (store, value) => run(store, "readwrite", (s) => s.put(value));
  const get = (store, key) => run(store, "readonly", (s) => s.get(key));
  const remove = (store, key) => run(store, "readwrite", (s) => s.delete(key));
  const all = (store) => run(store, "readonly", (s) => s.getAll());

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  let made = 0;  // items made within one millisecond keep their order
  async function items() {
    const every = await all("outbox");
    return every.sort((a, b) => a.made - b.made || a.seq - b.seq);
  }
  const mine = async () => (await items()).filter((item) => item.username === username);

  // ---- what the page saves for offline use, per account ----
  async function save(name, value) {
    await put("saved", {name: `${username}:${name}`, value, at: Date.now()});
  }
  async function load(name) {
    const found = await get("saved", `${username}:${name}`);
    return found ? {value: found.value, at: found.at} : null;
  }
  const forget = (name) => remove("saved", `${username}:${name}`);

  // ---- sending ----
  class Refused extends Error {  // the service said no, for a reason a repeat will not change
    constructor(status, reason) { super(reason); this.status = status; this.reason = reason; }
  }
  class Later extends Error {}  // a passing trouble of the service: try again later

  function check(got, inFlightIsLater) {
    if (got.ok) return got.body;
    // 409 with a key: the first request with it is still in flight (never an illegal move
    // for a report, photo or track)
    if (TRANSIENT.has(got.status) || (got.status === 409 && inFlightIsLater)) {
      throw new Later(refusal(got));
    }
    throw new Refused(got.status, refusal(got));
  }

  async function postJson(path, key, body, extra) {
    const headers = {"Content-Type": "application/json", "Idempotency-Key": key, ...extra};
    return api(path, {method: "POST", headers, body});
  }

  async function sendPhotos(item, incidentId) {
    while (item.photosDone < item.photos.length) {
      const photo = item.photos[item.photosDone];
      const form = new FormData();
      form.append("file", photo.blob, photo.name || "photo.jpg");
      check(await api(`/api/v1/incidents/${incidentId}/photos`, {
        method: "POST", headers: {"Idempotency-Key": photo.key}, body: form}), true);
      item.photosDone += 1;
      await put("outbox", item);  // a resend starts at the next photo (a repeat is harmless)
    }
  }

  const SENDERS = {
    async report(item) {
      if (!item.incident) {
        const incident = check(await postJson("/api/v1/incidents", item.id, item.body), true);
        item.incident = incident.id;
        item.result = incident;
        await put("outbox", item);
      }
      await sendPhotos(item, item.incident);
      return item.result;
    },
    async action(item) {
      await sendPhotos(item, item.incident);
      return check(await postJson(`/api/v1/incidents/${item.incident}/actions`, item.id,
                                  JSON.stringify({action: item.action, note: item.note}),
                                  {"If-Match": `"${item.version}"`}), false);
    },
    async patrol(item) {
      return check(await postJson("/api/v1/patrols", item.id, item.body), true);
    },
  };

  function isNetwork(error) {
    return !(error instanceof Refused || error instanceof Later || error.signedOut);
  }

  // One pass over this account's waiting items, oldest first; an outcome per item sent,
  // refused or left waiting. A want of network ends the pass: the rest would meet it too.
  async function pass() {
    const outcomes = new Map();
    if (!username) return outcomes;
    for (const item of (await mine()).filter((i) => i.state === "waiting")) {
      if (!navigator.onLine) break;
      try {
        const result = await SENDERS[item.kind](item);
        await remove("outbox", item.id);
        outcomes.set(item.id, {sent: true, result, item});
      } catch (error) {
        if (error.signedOut) break;  // page.js is taking the person to sign in again
        if (error instanceof Refused) {
          Object.assign(item, {state: "failed", reason: error.reason, status: error.status});
          await put("outbox", item);
          outcomes.set(item.id, {refused: true, reason: error.reason, status: error.status,
                                 item});
          continue;
        }
        item.tries += 1;
        item.reason = isNetwork(error) ? "" : error.message;
        if (error instanceof Later && item.tries >= MAX_TRIES) {
          item.state = "failed";
          item.reason = `多次尝试未成功：${error.message}`;
        }
        await put("outbox", item);
        outcomes.set(item.id, {waiting: item.state === "waiting", item});
        break;
      }
    }
    return outcomes;
  }

  // passes run one at a time: within this page by a chain, across its tabs by a Web Lock
  let chain = Promise.resolve();
  function flush() {
    const locked = (work) => (navigator.locks ? navigator.locks.request("gis-worker-outbox", work)
                                              : work());
    const next = chain.then(() => locked(pass));
    chain = next.catch(() => {});
    return next.then(async (outcomes) => {
      const sent = [...outcomes.values()].filter((o) => o.sent);
      for (const listener of listeners) listener(sent, outcomes);
      await render();
      return outcomes;
    });
  }

  /* Keep a new item, then try to send it (and whatever waits before it). `item` is
   * {kind: report|action|patrol, title, …what its sender needs}, photos as [File]. Resolves to
   * {sent, result} | {waiting} | {refused, reason, status}. */
  async function submit(item) {
    made += 1;
    const kept = {...item, id: newKey(), username, made: Date.now(), seq: made,
                  state: "waiting", reason: "", tries: 0, photosDone: 0,
                  photos: (item.photos || []).map((file) => ({key: newKey(), blob: file,
                                                              name: file.name}))};
    await put("outbox", kept);
    const outcomes = await flush();
    return outcomes.get(kept.id) || {waiting: true, item: kept};
  }

  async function retry(id) {
    const item = await get("outbox", id);
    if (!item) return;
    Object.assign(item, {state: "waiting", reason: "", tries: 0});
    await put("outbox", item);
    await flush();
  }

  async function drop(id) {
    await remove("outbox", id);
    await render();
  }

  // ---- what the worker sees: the waiting and the failed ----
  function when(ms) {
    return new Date(ms).toLocaleTimeString("zh-CN", {hour: "2-digit", minute: "2-digit"});
  }

  function entry(item) {
    const photos = item.photos.length ? `（含照片 ${item.photos.length} 张）` : "";
    const state = item.state === "failed" ? `未能发送：${item.reason}`
      : (item.reason ? `待重试：${item.reason}` : "等待网络");
    const row = el("li", {class: `w-out ${item.state}`, "data-kind": item.kind,
                          "data-state": item.state, "data-id": item.id},
                   el("span", {class: "w-out-what"}, `${item.title}${photos}`),
                   el("span", {class: "w-out-when"}, `${when(item.made)} · ${state}`));
    if (item.state === "failed") {
      row.append(el("span", {class: "w-out-buttons"},
                    el("button", {type: "button", class: "w-small", "data-do": "retry",
                                  onclick: () => retry(item.id)}, "重试"),
                    el("button", {type: "button", class: "w-small", "data-do": "drop",
                                  onclick: () => drop(item.id)}, "放弃")));
    }
    return row;
  }

  async function render() {
    const box = document.getElementById("outbox");
    if (!box) return;
    const every = await items();
    const own = every.filter((item) => item.username === username);
    const waiting = own.filter((item) => item.state === "waiting").length;
    const failed = own.length - waiting;
    document.getElementById("outbox-count").textContent =
      `待发送 ${waiting} 条${failed ? `，未能发送 ${failed} 条` : ""}`;
    document.getElementById("outbox-list").replaceChildren(...own.map(entry));
    const others = every.length - own.length;
    const note = document.getElementById("outbox-others");
    note.hidden = !others;
    note.textContent = `另有 ${others} 条由本机其他账号所做，待其登录后发送`;
    box.hidden = !every.length;
    document.getElementById("outbox-send").disabled = !navigator.onLine || !waiting;
    box.dataset.waiting = String(waiting);
    box.dataset.failed = String(failed);
  }

  /* Start for the signed-in account: show what waits, send it now, when the network comes
   * back, and every `retrySeconds`. */
  function start(account, retrySeconds) {
    username = account;
    document.getElementById("outbox-send").addEventListener("click", () => flush());
    window.addEventListener("online", () => flush());
    window.addEventListener("offline", () => render());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") flush();
    });
    setInterval(async () => {
      if ((await mine()).some((item) => item.state === "waiting")) flush();
    }, retrySeconds * 1000);
    return flush();
  }

  const onSent = (listener) => listeners.push(listener);

  window.workerOutbox = Object.freeze({start, submit, flush, retry, drop, onSent, save, load,
                                       forget, mine});
}());
