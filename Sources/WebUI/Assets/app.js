// Swapline's page: a client of the public /v1 API only (the same calls as curl or a script).
// Text from the server is only ever set as textContent, never parsed as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const TERMINAL = new Set(["succeeded", "failed", "canceled"]);
const MAX_SOURCES = 10;
const OUTPUT_FORMATS = { image: ["png", "jpg", "webp"], video: ["mp4", "mkv", "mov", "webm"] };
const DEFAULTS = { weight: 0.5, blend: 80, imageQuality: 90, videoQuality: 65, chunkSize: 100, selectorMode: "many", enhancer: "gfpgan_1.4" };
// Mask types that need a model file besides the swapper (the configuration's default models).
const MASK_MODELS = { occlusion: "xseg_1", region: "bisenet_resnet_34" };
const JOBS_PAGE = 10;
// How long an armed Delete waits for its confirming click: long enough to outlast a list
// refresh (3 s) and a second look, short enough that a forgotten one does not linger.
const DELETE_CONFIRM_MS = 10000;

const state = {
  key: null,
  models: [],
  sources: [],        // upload items: {file, asset, xhr, error, li}
  target: null,       // one upload item
  followed: null,     // {id, controller, job}
  before: null,       // {id, url}: the open image job's target, for the before/after view
  resultURL: null,
  cursors: [null],
  page: 0,
  listTimer: null,
  listFailed: false,
  listTicket: 0,      // only the newest jobs-list answer is shown
  armedDelete: null,  // job id whose Delete awaits its confirming click
  armTimer: null,     // disarms that Delete
  submitting: false,
  sourcesNotice: "",  // why dropped or chosen sources were not added
  signingIn: false,
};

// ---------- The API ----------

class APIError extends Error {
  constructor(status, code, field, message) {
    super(message);
    this.status = status; this.code = code; this.field = field;
  }
}

async function errorFrom(status, statusText, text) {
  try {
    const body = JSON.parse(text);
    if (body && body.error) return new APIError(status, body.error.code, body.error.field, body.error.message);
  } catch (_) { /* not the API's JSON: a proxy or a dropped connection */ }
  return new APIError(status, "http_" + status, null, `The server answered ${status} ${statusText}`.trim());
}

async function api(method, path, { body, signal } = {}) {
  const headers = { Authorization: "Bearer " + state.key };
  let payload;
  if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
  let response;
  try {
    response = await fetch(path, { method, headers, body: payload, signal, cache: "no-store" });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new APIError(0, "unreachable", null, "The server could not be reached (" + error.message + ")");
  }
  if (!response.ok) {
    const error = await errorFrom(response.status, response.statusText, await response.text());
    if (response.status === 401 && state.key && !state.signingIn) signOut("The server refused the key: " + error.message);
    throw error;
  }
  return response;
}

// ---------- Signing in ----------

async function signIn(key) {
  state.key = key;
  const response = await api("GET", "/v1/models");
  state.models = (await response.json()).data;
  sessionStorage.setItem("swapline.key", key);
  $("sign-in").hidden = true;
  $("workspace").hidden = false;
  $("session").hidden = false;
  const keyID = key.split("_").slice(0, 2).join("_");
  $("session-label").textContent = "Signed in with key " + keyID + "_…";
  fillModelOptions();
  updateFormState();
  state.cursors = [null]; state.page = 0;
  await loadJobs();
}

function signOut(message) {
  state.key = null;
  sessionStorage.removeItem("swapline.key");
  stopFollowing();
  clearTimeout(state.listTimer); state.listTimer = null;
  state.listTicket += 1;
  clearTimeout(state.armTimer); state.armedDelete = null;
  state.sourcesNotice = "";
  $("jobs-body").replaceChildren();
  for (const element of document.querySelectorAll(".error")) showError(element, "");
  for (const item of [...state.sources, state.target].filter(Boolean)) discardUpload(item);
  state.sources = []; state.target = null;
  $("sources-list").replaceChildren(); $("target-list").replaceChildren();
  closeJob();
  $("workspace").hidden = true;
  $("session").hidden = true;
  $("sign-in").hidden = false;
  $("api-key").value = "";
  showError($("api-key-error"), message || "");
  $("api-key").focus();
}

$("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const key = $("api-key").value.trim();
  showError($("api-key-error"), "");
  if (!key) { showError($("api-key-error"), "Enter an API key."); return; }
  $("sign-in-button").disabled = true;
  state.signingIn = true;
  try {
    await signIn(key);
  } catch (error) {
    state.key = null;
    sessionStorage.removeItem("swapline.key");
    showError($("api-key-error"), error.status === 401 ? "That key was refused: " + error.message : error.message);
  } finally {
    state.signingIn = false;
    $("sign-in-button").disabled = false;
  }
});
$("sign-out").addEventListener("click", () => signOut(""));

// ---------- Options from the model catalog ----------

function modelInfo(model) {
  const use = model.commercial_use === true ? "commercial use allowed" : model.commercial_use === false ? "non-commercial use only" : "commercial use unknown";
  return `${model.id}: licence ${model.licence} (${use})`;
}

function modelNamed(id) { return state.models.find((model) => model.id === id); }

function fillModelOptions() {
  const swapper = $("face-swapper-model");
  swapper.replaceChildren(new Option("classic (default): built in, no model file", "classic", true, true));
  for (const model of state.models.filter((m) => m.role === "face_swapper")) {
    const option = new Option(model.present ? `${model.id} (${model.licence})` : `${model.id}: not on this server`, model.id);
    option.disabled = !model.present;
    if (!model.present) option.title = `${model.file} is not in the server's models folder`;
    swapper.append(option);
  }
  const enhancers = state.models.filter((m) => m.role === "face_enhancer");
  const enhancer = $("face-enhancer-model");
  enhancer.replaceChildren();
  for (const model of enhancers) {
    const option = new Option(model.present ? `${model.id} (${model.licence})` : `${model.id}: not on this server`, model.id);
    option.disabled = !model.present;
    enhancer.append(option);
  }
  const preferred = enhancers.find((m) => m.id === DEFAULTS.enhancer && m.present) || enhancers.find((m) => m.present);
  if (preferred) enhancer.value = preferred.id;
  else enhancer.prepend(new Option("none on this server", "", true, true));
  $("face-enhancer-on").disabled = !preferred;
  $("face-enhancer-on").checked = false;
  state.noEnhancerText = `No face enhancer is available: none of their model files (e.g. ${modelNamed(DEFAULTS.enhancer)?.file || "gfpgan_1.4.onnx"}) is in the server's models folder.`;
  updateOptionStates();
}

function updateOptionStates() {
  const model = $("face-swapper-model").value;
  const classic = model === "classic";
  const detector = modelNamed("scrfd_2.5g_kps");
  $("face-swapper-model-info").textContent = classic
    ? "Swapline's own swapper (no model file). Faces are found with " + (detector ? modelInfo(detector) : "the face detector") + "."
    : modelInfo(modelNamed(model)) + ".";
  $("face-swapper-weight").disabled = classic;
  $("face-swapper-weight-help").textContent = classic ? "Applies to zoo swappers; the classic swapper has no weight." : "Default 0.5.";
  const masks = $("face-mask-types");
  masks.disabled = classic;
  const missing = [];
  for (const box of masks.querySelectorAll("input[name=mask]")) {
    const needed = MASK_MODELS[box.value];
    const absent = needed && !(modelNamed(needed) || {}).present;
    box.disabled = classic || Boolean(absent);
    if (absent) { box.checked = false; missing.push(`${box.value} needs ${needed}, which is not on this server`); }
  }
  $("face-mask-types-help").textContent = classic
    ? "Mask types apply to zoo swappers; the classic swapper blends with its own face mask. Default: box."
    : ["Default: box.", ...missing].join(" ");
  const chosenEnhancer = modelNamed($("face-enhancer-model").value);
  $("face-enhancer-help").textContent = chosenEnhancer
    ? `Default model ${DEFAULTS.enhancer}, blend ${DEFAULTS.blend}. ${modelInfo(chosenEnhancer)}.`
    : state.noEnhancerText || "";
  const enhancerOn = $("face-enhancer-on").checked;
  $("face-enhancer-model").disabled = !enhancerOn;
  $("face-enhancer-blend").disabled = !enhancerOn;
  $("face-swapper-weight-value").textContent = $("face-swapper-weight").value;
  $("face-enhancer-blend-value").textContent = $("face-enhancer-blend").value;
  const kind = state.target?.asset?.kind;
  $("chunk-size").disabled = kind === "image";
  const format = $("output-format");
  const formats = OUTPUT_FORMATS[kind] || [];
  if (format.dataset.kind !== (kind || "")) {
    format.replaceChildren(...formats.map((name, index) => new Option(index === 0 ? `${name} (default)` : name, name, index === 0, index === 0)));
    if (!kind) format.append(new Option("choose a target first", "", true, true));
    format.dataset.kind = kind || "";
  }
  format.disabled = !kind;
}

for (const id of ["face-swapper-model", "face-swapper-weight", "face-enhancer-on", "face-enhancer-blend", "face-enhancer-model"]) {
  $(id).addEventListener("input", updateOptionStates);
}

// ---------- Uploads ----------

function uploadItem(file, list) {
  const li = document.createElement("li");
  const isVideo = file.type.startsWith("video/") || !file.type.startsWith("image/");
  const thumb = isVideo ? document.createElement("canvas") : document.createElement("img");
  thumb.className = "thumb";
  if (isVideo) { thumb.width = 96; thumb.height = 96; drawFirstFrame(file, thumb); }
  else { thumb.src = URL.createObjectURL(file); thumb.alt = "Thumbnail of " + file.name; }
  const middle = document.createElement("div");
  const name = document.createElement("div");
  name.className = "name"; name.textContent = file.name;
  const progress = document.createElement("progress");
  progress.max = 1; progress.value = 0;
  progress.setAttribute("aria-label", "Upload of " + file.name);
  const status = document.createElement("div");
  status.className = "state"; status.textContent = "uploading…";
  middle.append(name, progress, status);
  const remove = document.createElement("button");
  remove.type = "button"; remove.className = "small"; remove.textContent = "Remove";
  remove.setAttribute("aria-label", "Remove " + file.name);
  li.append(thumb, middle, remove);
  list.append(li);
  return { file, li, thumb, progress, status, remove, asset: null, xhr: null, error: null };
}

// A video's first frame as its thumbnail, decoded by the browser from the local file.
function drawFirstFrame(file, canvas) {
  const video = document.createElement("video");
  video.muted = true; video.preload = "auto";
  const url = URL.createObjectURL(file);
  video.src = url;
  video.addEventListener("loadeddata", () => {
    const side = Math.min(video.videoWidth, video.videoHeight);
    canvas.getContext("2d").drawImage(video, (video.videoWidth - side) / 2, (video.videoHeight - side) / 2, side, side, 0, 0, canvas.width, canvas.height);
    canvas.dataset.drawn = "true";
    URL.revokeObjectURL(url);
  }, { once: true });
  video.addEventListener("error", () => URL.revokeObjectURL(url), { once: true });
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", "First frame of " + file.name);
}

function discardUpload(item) {
  if (item.xhr) item.xhr.abort();
  if (item.thumb.src && item.thumb.src.startsWith("blob:")) URL.revokeObjectURL(item.thumb.src);
  item.li.remove();
}

// POST /v1/assets with the raw file; XMLHttpRequest because fetch reports no upload progress.
function upload(item) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    item.xhr = xhr;
    xhr.open("POST", "/v1/assets");
    xhr.setRequestHeader("Authorization", "Bearer " + state.key);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.addEventListener("progress", (event) => {
      if (!event.lengthComputable) return;
      item.progress.value = event.loaded / event.total;
      item.status.textContent = `uploading… ${Math.floor(100 * event.loaded / event.total)}%`;
    });
    xhr.addEventListener("load", async () => {
      item.xhr = null;
      if (xhr.status === 201) {
        item.asset = JSON.parse(xhr.responseText);
        item.progress.value = 1;
        const a = item.asset;
        item.status.textContent = a.kind === "video"
          ? `ready: video ${a.width}×${a.height}, ${a.frames} frames, ${a.duration.toFixed(1)} s`
          : `ready: ${a.format.toUpperCase()} ${a.width}×${a.height}`;
      } else {
        item.error = await errorFrom(xhr.status, xhr.statusText, xhr.responseText);
        if (xhr.status === 401) signOut("The server refused the key: " + item.error.message);
      }
      resolve();
    });
    xhr.addEventListener("error", () => {
      item.xhr = null;
      item.error = new APIError(0, "unreachable", null, "The upload was interrupted: the server could not be reached or closed the connection");
      resolve();
    });
    xhr.addEventListener("abort", () => { item.xhr = null; resolve(); });
    xhr.send(item.file);
  }).then(() => {
    if (item.error) {
      item.status.textContent = "refused (see below)";
      item.status.classList.add("bad");
      item.progress.hidden = true;
    }
    updateFormState();
  });
}

function addSources(files) {
  clearErrors();
  const images = [...files].filter((file) => file.type.startsWith("image/"));
  const room = MAX_SOURCES - state.sources.length;
  state.sourcesNotice = images.length < files.length ? "Source faces must be images (PNG, JPEG or WebP); other files were not added."
    : images.length > room ? `At most ${MAX_SOURCES} source faces; ${images.length - Math.max(room, 0)} not added.` : "";
  for (const file of images.slice(0, Math.max(room, 0))) {
    const item = uploadItem(file, $("sources-list"));
    state.sources.push(item);
    item.remove.addEventListener("click", () => {
      discardUpload(item);
      state.sources = state.sources.filter((other) => other !== item);
      updateFormState();
    });
    upload(item);
  }
  updateFormState();
}

function setTarget(file) {
  clearErrors();
  if (state.target) discardUpload(state.target);
  const item = uploadItem(file, $("target-list"));
  state.target = item;
  item.remove.addEventListener("click", () => {
    discardUpload(item);
    if (state.target === item) state.target = null;
    updateFormState();
  });
  upload(item);
  updateFormState();
}

$("sources-input").addEventListener("change", (event) => { addSources(event.target.files); event.target.value = ""; });
$("target-input").addEventListener("change", (event) => { if (event.target.files[0]) setTarget(event.target.files[0]); event.target.value = ""; });
// A file dropped outside the two zones must not replace the page (and its uploads) with the file.
document.addEventListener("dragover", (event) => event.preventDefault());
document.addEventListener("drop", (event) => event.preventDefault());
for (const [zone, take] of [["sources-drop", (files) => addSources(files)], ["target-drop", (files) => files[0] && setTarget(files[0])]]) {
  const element = $(zone);
  element.addEventListener("dragover", (event) => { event.preventDefault(); element.classList.add("dragging"); });
  element.addEventListener("dragleave", () => element.classList.remove("dragging"));
  element.addEventListener("drop", (event) => {
    event.preventDefault();
    element.classList.remove("dragging");
    take(event.dataTransfer.files);
  });
}

function updateFormState() {
  // Upload refusals are recomputed from the items (a removed item takes its message with it).
  for (const field of ["sources", "target"]) {
    const zone = document.querySelector(`#job-form [data-field=${field}]`);
    zone.classList.remove("invalid");
    showError(zone.querySelector(".error"), "");
  }
  if (state.sourcesNotice) showFieldError("sources", state.sourcesNotice);
  for (const item of state.sources.concat(state.target ? [state.target] : [])) {
    if (item.error) showFieldError(item === state.target ? "target" : "sources", item.error.message);
  }
  const sourcesReady = state.sources.filter((item) => item.asset).length;
  const uploading = state.sources.concat(state.target ? [state.target] : []).some((item) => item.xhr);
  const failed = state.sources.some((item) => item.error) || state.target?.error;
  let help = "";
  if (state.submitting) help = "Submitting…";
  else if (uploading) help = "Waiting for the uploads to finish…";
  else if (failed) help = "Remove the refused upload first.";
  else if (!sourcesReady) help = "Add a source face.";
  else if (!state.target?.asset) help = "Add a target image or video.";
  $("submit").disabled = help !== "";
  $("submit-help").textContent = help || `Ready: ${sourcesReady} source face${sourcesReady > 1 ? "s" : ""}, ${state.target.asset.kind} target.`;
  updateOptionStates();
}

// ---------- Submitting ----------

function jobOptions() {
  const options = {};
  const model = $("face-swapper-model").value;
  if (model !== "classic") {
    options.faceSwapper = { model };
    const weight = Number($("face-swapper-weight").value);
    if (weight !== DEFAULTS.weight) options.faceSwapper.weight = weight;
    const types = [...document.querySelectorAll("input[name=mask]:checked")].map((box) => box.value);
    if (types.join() !== "box") options.faceMasker = { types };
  }
  const selector = $("face-selector-mode").value;
  if (selector !== DEFAULTS.selectorMode) options.faceSelector = { mode: selector };
  if ($("face-enhancer-on").checked) {
    options.processors = ["face_swapper", "face_enhancer"];
    options.faceEnhancer = { model: $("face-enhancer-model").value, blend: Number($("face-enhancer-blend").value) };
  }
  const output = {};
  const imageQuality = numberFrom("output-image-quality"), videoQuality = numberFrom("output-video-quality");
  if (imageQuality !== DEFAULTS.imageQuality) output.imageQuality = imageQuality;
  if (videoQuality !== DEFAULTS.videoQuality) output.videoQuality = videoQuality;
  if (Object.keys(output).length) options.output = output;
  const chunkSize = numberFrom("chunk-size");
  if (state.target?.asset?.kind === "video" && chunkSize !== DEFAULTS.chunkSize) options.video = { chunkSize };
  return options;
}

// The value as typed (the API judges it and names the field if it is wrong).
function numberFrom(id) {
  const text = $(id).value.trim();
  return text === "" ? NaN : Number(text);
}

$("job-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (state.submitting) return;
  clearErrors();
  const target = state.target;
  const body = { sources: state.sources.map((item) => item.asset.id), target: target.asset.id, options: jobOptions() };
  for (const [id, key] of [["output-image-quality", "imageQuality"], ["output-video-quality", "videoQuality"], ["chunk-size", "chunkSize"]]) {
    // A box left empty or holding text is sent as-is so the API's own message names it.
    if (Number.isNaN(numberFrom(id))) {
      const group = key === "chunkSize" ? "video" : "output";
      if (key !== "chunkSize" || target.asset.kind === "video") {
        body.options[group] = body.options[group] || {};
        body.options[group][key] = $(id).value;
      }
    }
  }
  const format = $("output-format").value;
  if (format && format !== OUTPUT_FORMATS[target.asset.kind][0]) body.output_format = format;
  state.submitting = true;
  updateFormState();
  try {
    const job = await (await api("POST", "/v1/jobs", { body })).json();
    follow(job, job.kind === "image" ? target.file : null);
    loadJobs();
  } catch (error) {
    if (error.name !== "AbortError") showFieldError(error.field, error.message);
  } finally {
    state.submitting = false;
    updateFormState();
  }
});

function clearErrors() {
  for (const element of document.querySelectorAll("#job-form .error")) showError(element, "");
  for (const element of document.querySelectorAll("#job-form .invalid")) element.classList.remove("invalid");
}

// Puts the API's message next to the control its `field` names (the longest matching
// data-field: `sources[0]` -> sources, `options.faceMasker.types[1]` -> options.faceMasker.types).
function showFieldError(field, message) {
  let best = null;
  for (const element of document.querySelectorAll("#job-form [data-field]")) {
    const name = element.dataset.field;
    if (field && (field === name || field.startsWith(name + ".") || field.startsWith(name + "["))) {
      if (!best || name.length > best.dataset.field.length) best = element;
    }
  }
  if (best) {
    best.classList.add("invalid");
    showError(best.querySelector(".error"), message);
    const control = best.querySelector("select, input");
    if (best.closest("details")) best.closest("details").open = true;
    if (control && document.activeElement === $("submit")) control.focus();
  } else {
    showError($("form-error"), message);
  }
}

function showError(element, message) {
  if (element.textContent === message && element.hidden === !message) return;   // no repeat for screen readers
  element.textContent = message;
  element.hidden = !message;
}

// ---------- Following a job ----------

function stopFollowing() {
  if (state.followed) state.followed.controller.abort();
  state.followed = null;
  if (state.resultURL) { URL.revokeObjectURL(state.resultURL); state.resultURL = null; }
  if (state.before) { URL.revokeObjectURL(state.before.url); state.before = null; }
}

function closeJob() {
  stopFollowing();
  $("job-title").textContent = "Job";
  $("job-body").hidden = true;
  $("job-empty").hidden = false;
}

async function follow(job, targetFile = null) {
  stopFollowing();
  const controller = new AbortController();
  state.followed = { id: job.id, controller, job: null };
  if (targetFile) state.before = { id: job.id, url: URL.createObjectURL(targetFile) };
  for (const row of document.querySelectorAll("#jobs-body tr")) row.classList.toggle("current", row.dataset.job === job.id);
  $("job-empty").hidden = true;
  $("job-body").hidden = false;
  $("result").hidden = true;
  $("job-download").hidden = true;
  $("job-title").textContent = `Job ${job.id} (${job.kind})`;
  renderJob(job);
  $("job").scrollIntoView({ block: "nearest" });
  // The event stream (fetch, not EventSource, which cannot send the key), opened at least once
  // (it starts with the job as it is now, so a stale list row is corrected); reconnect if it drops.
  let delay = 1000;
  let first = true;
  while (!controller.signal.aborted && (first || !TERMINAL.has(state.followed?.job?.status))) {
    first = false;
    try {
      const response = await api("GET", `/v1/jobs/${job.id}/events`, { signal: controller.signal });
      await readEvents(response, controller.signal);
      delay = 1000;
    } catch (error) {
      if (controller.signal.aborted) return;
      if (error.status === 404) { showError($("job-error"), "This job no longer exists (deleted)."); return; }
      if (error.status === 401) return;
      $("job-stats").textContent = "Connection lost, reconnecting…";
    }
    if (!controller.signal.aborted && !TERMINAL.has(state.followed?.job?.status)) {
      await sleep(delay);
      delay = Math.min(delay * 2, 15000);
    }
  }
}

async function readEvents(response, signal) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const cancel = () => reader.cancel().catch(() => {});
  signal.addEventListener("abort", cancel, { once: true });
  try {
    await readEventBlocks();
  } finally {
    signal.removeEventListener("abort", cancel);
    cancel();
  }

  async function readEventBlocks() {
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    // SSE allows CRLF and CR line ends; a CR at the end of a chunk may be half of a CRLF.
    buffer += decoder.decode(value, { stream: true });
    const held = buffer.endsWith("\r") ? "\r" : "";
    buffer = buffer.slice(0, buffer.length - held.length).replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (!data.length || signal.aborted) continue;
      const payload = JSON.parse(data.join("\n"));
      if (name === "state" || name === "done") renderJob(payload);
      else if (name === "progress") renderProgress(payload);
    }
    buffer += held;
  }
  }
}

function renderJob(job) {
  if (!state.followed || state.followed.id !== job.id) return;
  const previous = state.followed.job;
  state.followed.job = job;
  const badge = $("job-status");
  badge.textContent = job.status;
  badge.className = "status " + job.status;
  renderProgress(job.progress, job);
  $("job-cancel").hidden = !(job.status === "queued" || job.status === "processing");
  $("job-retry").hidden = !(job.status === "failed" || job.status === "canceled");
  showError($("job-error"), job.error && job.status !== "canceled" ? job.error.message : "");
  if (previous && previous.status !== job.status) loadJobs();
  if (job.status === "succeeded" && job.output && previous?.status !== "succeeded") showResult(job);
  if (job.status !== "succeeded") { $("result").hidden = true; $("job-download").hidden = true; }
}

function renderProgress(progress, job = state.followed?.job) {
  const bar = $("job-progress");
  bar.max = Math.max(progress.frames_total, 1);
  bar.value = progress.frames_done;
  const parts = [`${progress.frames_done} / ${progress.frames_total} frames`];
  if (progress.fps !== null) parts.push(`${progress.fps} fps`);
  if (progress.eta_seconds !== null && job && !TERMINAL.has(job.status)) parts.push(`ETA ${formatSeconds(progress.eta_seconds)}`);
  if (job?.status === "queued" && job.queue_position !== null) parts.push(`${job.queue_position} job${job.queue_position === 1 ? "" : "s"} ahead`);
  $("job-stats").textContent = parts.join(" · ");
  // The strip: one cell per chunk in frame order, coloured by its state.
  const chunks = progress.chunks;
  const strip = $("chunk-strip");
  const names = { p: "pending", l: "leased", d: "done", x: "dead" };
  const cells = [...progress.chunk_states].map((letter, index) => {
    const cell = document.createElement("span");
    cell.className = "cell " + names[letter];
    cell.title = `chunk ${index + 1}: ${names[letter] === "leased" ? "rendering" : names[letter] === "dead" ? "failed" : names[letter]}`;
    return cell;
  });
  strip.replaceChildren(...cells);
  for (const kind of ["done", "leased", "dead", "pending"]) strip.dataset[kind] = chunks[kind];
  strip.setAttribute("aria-label", `Chunks: ${chunks.done} done, ${chunks.leased} rendering, ${chunks.pending} pending, ${chunks.dead} failed`);
}

function formatSeconds(seconds) {
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole} s`;
  return `${Math.floor(whole / 60)} min ${whole % 60} s`;
}

// The output is fetched with the key and shown from memory (an <img src> cannot send the key).
async function showResult(job) {
  const followed = state.followed;
  let blob;
  try {
    blob = await (await api("GET", job.output.url, { signal: followed.controller.signal })).blob();
  } catch (error) {
    if (error.name !== "AbortError") showError($("job-error"), "The output could not be downloaded: " + error.message);
    return;
  }
  if (state.followed !== followed) return;
  if (state.resultURL) URL.revokeObjectURL(state.resultURL);
  const url = URL.createObjectURL(blob);
  state.resultURL = url;
  const extension = job.output.url && job.output.content_type.split("/")[1];
  const download = $("job-download");
  download.href = url;
  download.download = `swapline-${job.id}.${{ jpeg: "jpg", "x-matroska": "mkv", quicktime: "mov" }[extension] || extension}`;
  download.textContent = `Download (${formatBytes(job.output.size)})`;
  download.hidden = false;
  if (job.kind === "image" && state.before?.id !== job.id) {
    // Opened from the list: the target as uploaded, while retention keeps it.
    try {
      const target = await (await api("GET", `/v1/assets/${job.target}/content`, { signal: followed.controller.signal })).blob();
      if (state.followed !== followed) return;
      state.before = { id: job.id, url: URL.createObjectURL(target) };
    } catch (error) {
      if (error.name === "AbortError") return;
    }
  }
  const before = state.before?.id === job.id ? state.before.url : null;
  $("compare").hidden = !(job.kind === "image" && before);
  $("result-image").hidden = !(job.kind === "image" && !before);
  $("result-video").hidden = job.kind !== "video";
  if (job.kind === "image" && before) {
    $("compare-before").src = before;
    $("compare-after").src = url;
    updateCompare();
  } else if (job.kind === "image") {
    $("result-image").src = url;
  } else {
    $("result-video").src = url;
  }
  $("result").hidden = false;
}

function updateCompare() {
  // The result covers the part of the picture right of the slider.
  $("compare-after-clip").style.clipPath = `inset(0 0 0 ${$("compare-slider").value}%)`;
}
$("compare-slider").addEventListener("input", updateCompare);

function formatBytes(size) {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(0)} KB`;
  return `${(size / 1024 / 1024).toFixed(1)} MB`;
}

async function jobAction(id, action, errorElement) {
  showError(errorElement, "");
  let failure = "";
  try {
    const response = await api(action === "delete" ? "DELETE" : "POST", action === "delete" ? `/v1/jobs/${id}` : `/v1/jobs/${id}/${action}`);
    if (action === "delete") {
      if (state.followed?.id === id) closeJob();
    } else {
      const job = await response.json();
      if (state.followed?.id === id && action === "retry") follow(job);
      else if (state.followed?.id === id) renderJob(job);
    }
  } catch (error) {
    if (error.name !== "AbortError") failure = error.message;
  }
  await loadJobs();
  // A refusal about job A is not shown in job B's card if B was opened meanwhile.
  if (errorElement !== $("job-error") || state.followed?.id === id) showError(errorElement, failure);
}

$("job-cancel").addEventListener("click", () => jobAction(state.followed.id, "cancel", $("job-error")));
$("job-retry").addEventListener("click", () => jobAction(state.followed.id, "retry", $("job-error")));

// ---------- The jobs list ----------

async function loadJobs() {
  if (!state.key) return;
  // Only the newest request's answer is shown (timer, buttons and status changes all ask).
  const ticket = ++state.listTicket;
  const page = state.page;
  clearTimeout(state.listTimer);
  const query = new URLSearchParams({ limit: String(JOBS_PAGE) });
  if ($("jobs-filter").value) query.set("status", $("jobs-filter").value);
  if (state.cursors[page]) query.set("after", state.cursors[page]);
  let answer;
  try {
    answer = await (await api("GET", "/v1/jobs?" + query)).json();
  } catch (error) {
    if (ticket === state.listTicket && error.name !== "AbortError") { showError($("jobs-error"), error.message); state.listFailed = true; }
    return;
  }
  if (ticket !== state.listTicket) return;
  // Clear only this function's own message: an action's refusal stays until the next action.
  if (state.listFailed) { showError($("jobs-error"), ""); state.listFailed = false; }
  state.cursors[page + 1] = answer.next_cursor;
  renderRows(answer.data);
  $("jobs-empty").hidden = answer.data.length > 0;
  $("jobs-table").hidden = answer.data.length === 0;
  $("jobs-newer").disabled = page === 0;
  $("jobs-older").disabled = !answer.has_more;
  $("jobs-page").textContent = `page ${page + 1}`;
  // Keep the list live while any job on it is still moving.
  if (answer.data.some((job) => !TERMINAL.has(job.status))) state.listTimer = setTimeout(loadJobs, 3000);
}

// Rows are updated in place when the same jobs are listed, so a focused button or an armed
// Delete survives the refresh; a row is rebuilt only when its job's status (its actions) changed.
function renderRows(jobs) {
  const body = $("jobs-body");
  const rows = [...body.children];
  const sameJobs = rows.length === jobs.length && rows.every((row, index) => row.dataset.job === jobs[index].id);
  if (!sameJobs) { body.replaceChildren(...jobs.map(jobRow)); return; }
  jobs.forEach((job, index) => {
    const row = rows[index];
    if (row.dataset.status !== job.status) row.replaceWith(jobRow(job));
    else row.querySelector("td[data-label=Progress]").textContent = progressText(job);
  });
}

function progressText(job) { return `${job.progress.frames_done} / ${job.progress.frames_total} frames`; }

function jobRow(job) {
  const row = document.createElement("tr");
  row.dataset.job = job.id;
  row.dataset.status = job.status;
  if (state.followed?.id === job.id) row.className = "current";
  const cell = (label, text) => {
    const td = document.createElement("td");
    td.dataset.label = label;
    if (text !== undefined) td.textContent = text;
    row.append(td);
    return td;
  };
  cell("Job", "#" + job.id);
  cell("Kind", job.kind);
  const status = cell("Status");
  const badge = document.createElement("span");
  badge.className = "status " + job.status; badge.textContent = job.status;
  status.append(badge);
  cell("Progress", progressText(job));
  cell("Created", new Date(job.created_at * 1000).toLocaleString());
  const actions = document.createElement("div");
  actions.className = "actions";
  const button = (text, action, label) => {
    const b = document.createElement("button");
    b.type = "button"; b.className = "small"; b.textContent = text; b.dataset.action = action;
    b.setAttribute("aria-label", `${label} job ${job.id}`);
    actions.append(b);
    return b;
  };
  button("Open", "open", "Open").addEventListener("click", () => follow(job));
  if (job.status === "queued" || job.status === "processing") button("Cancel", "cancel", "Cancel").addEventListener("click", () => jobAction(job.id, "cancel", $("jobs-error")));
  if (job.status === "failed" || job.status === "canceled") button("Retry", "retry", "Retry").addEventListener("click", () => jobAction(job.id, "retry", $("jobs-error")));
  const remove = button(state.armedDelete === job.id ? "Confirm delete" : "Delete", "delete", "Delete");
  remove.addEventListener("click", () => {
    // Two clicks: deleting removes the output for good.
    if (state.armedDelete === job.id) { armDelete(null); jobAction(job.id, "delete", $("jobs-error")); return; }
    armDelete(job.id);
  });
  cell("Actions").append(actions);
  return row;
}

// One Delete is armed at a time, for DELETE_CONFIRM_MS. The buttons are looked up rather than
// captured: a refresh may have rebuilt the row since the Delete was armed.
function armDelete(id) {
  clearTimeout(state.armTimer);
  state.armedDelete = id;
  for (const b of document.querySelectorAll("#jobs-body button[data-action=delete]")) {
    b.textContent = b.closest("tr").dataset.job === id ? "Confirm delete" : "Delete";
  }
  if (id !== null) state.armTimer = setTimeout(() => armDelete(null), DELETE_CONFIRM_MS);
}

$("jobs-filter").addEventListener("change", () => { state.cursors = [null]; state.page = 0; loadJobs(); });
$("jobs-refresh").addEventListener("click", () => loadJobs());
$("jobs-older").addEventListener("click", () => {
  if (state.cursors[state.page + 1] === undefined) return;   // the next page's cursor is not known yet
  state.page += 1;
  loadJobs();
});
$("jobs-newer").addEventListener("click", () => { state.page = Math.max(0, state.page - 1); loadJobs(); });

function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

// ---------- Start ----------

(async () => {
  const saved = sessionStorage.getItem("swapline.key");
  if (!saved) { $("api-key").focus(); return; }
  try {
    await signIn(saved);
  } catch (error) {
    // A 401 has signed out already; anything else (server restarting) keeps the key for a retry.
    if (error.status !== 401) {
      state.key = null;
      $("api-key").value = saved;
      showError($("api-key-error"), error.message + " Sign in again to retry.");
    }
  }
})();
