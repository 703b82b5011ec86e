"""A Python client for Swapline's HTTP API (`swapline serve`), standard library only.

    from swapline_client import Client, swap

    client = Client("http://127.0.0.1:8080", "sl_...")
    job = client.submit(["face.jpg"], "clip.mp4", face_selector_mode="one", output_video_quality=80)
    job = client.wait(job, on_progress=lambda p: print(p["frames_done"], "/", p["frames_total"]))
    client.download(job, "out.mp4")

    # or, in the spirit of FaceFusion's headless-run, one call:
    swap(["face.jpg"], "clip.mp4", "out.mp4", face_selector_mode="one")   # SWAPLINE_URL, SWAPLINE_API_KEY

Options take FaceFusion's argument names with underscores (`face_swapper_model`, `face_mask_types`,
`output_video_quality`, ...); the API's JSON configuration may also be given whole as `options=`.
Errors are `SwaplineError` subclasses carrying the API's `code`, `message` and `field`.
"""
import http.client
import json
import os
import time
import urllib.parse
from pathlib import Path

__version__ = "1.0.0"
#: The version of the API contract (/openapi.json `info.version`) this client was written against.
API_VERSION = "1.0.0"

__all__ = ["Client", "swap", "SwaplineError", "Unauthorized", "NotFound", "Conflict", "Gone", "PayloadTooLarge",
           "InvalidRequest", "RateLimited", "ServerError", "JobFailed", "OPTIONS", "API_VERSION"]


class SwaplineError(Exception):
    """An error answer of the API: HTTP status, the API's code, message and field (or None)."""

    def __init__(self, status, code, message, field=None, retry_after=None):
        super().__init__(f"{status} {code}: {message}" + (f" (field {field})" if field else ""))
        self.status, self.code, self.message, self.field, self.retry_after = status, code, message, field, retry_after


class Unauthorized(SwaplineError): """401: no valid API key."""
class NotFound(SwaplineError): """404: unknown job or asset (also another tenant's)."""
class Conflict(SwaplineError): """409: not cancelable, not retryable, output not ready, files expired."""
class Gone(SwaplineError): """410: the output was deleted by retention."""
class PayloadTooLarge(SwaplineError): """413: upload, storage quota, frames or body over a limit."""
class InvalidRequest(SwaplineError): """422: a field is wrong; `field` names it."""
class RateLimited(SwaplineError): """429: too many active jobs; `retry_after` in seconds."""
class ServerError(SwaplineError): """5xx."""


class JobFailed(Exception):
    """`wait(..., raise_on_failure=True)` and `swap()`: the job ended failed or canceled."""

    def __init__(self, job):
        error = job.get("error") or {}
        super().__init__(f"job {job['id']} {job['status']}: {error.get('message', '')}")
        self.job = job


_ERRORS = {401: Unauthorized, 404: NotFound, 409: Conflict, 410: Gone, 413: PayloadTooLarge, 422: InvalidRequest, 429: RateLimited}

# FaceFusion's argument names (underscored) -> (group, key) in the API's configuration JSON.
OPTIONS = {
    "processors": (None, "processors"),
    "face_detector_model": ("faceDetector", "model"), "face_detector_size": ("faceDetector", "size"),
    "face_detector_score": ("faceDetector", "score"), "face_detector_angles": ("faceDetector", "angles"),
    "face_landmarker_model": ("faceLandmarker", "model"), "face_landmarker_score": ("faceLandmarker", "score"),
    "face_selector_mode": ("faceSelector", "mode"), "face_selector_order": ("faceSelector", "order"),
    "reference_face_position": ("faceSelector", "referencePosition"), "reference_face_distance": ("faceSelector", "referenceDistance"),
    "face_mask_types": ("faceMasker", "types"), "face_mask_blur": ("faceMasker", "blur"), "face_mask_padding": ("faceMasker", "padding"),
    "face_mask_areas": ("faceMasker", "areas"), "face_mask_regions": ("faceMasker", "regions"),
    "face_occluder_model": ("faceMasker", "occluderModel"), "face_parser_model": ("faceMasker", "parserModel"),
    "face_swapper_model": ("faceSwapper", "model"), "face_swapper_weight": ("faceSwapper", "weight"),
    "face_swapper_pixel_boost": ("faceSwapper", "pixelBoost"),
    "face_enhancer_model": ("faceEnhancer", "model"), "face_enhancer_blend": ("faceEnhancer", "blend"),
    "frame_enhancer_model": ("frameEnhancer", "model"), "frame_enhancer_blend": ("frameEnhancer", "blend"),
    "output_image_quality": ("output", "imageQuality"), "output_video_quality": ("output", "videoQuality"),
    "output_video_preset": ("output", "videoPreset"), "output_video_encoder": ("output", "videoEncoder"),
    "trim_frame_start": ("video", "trimFrameStart"), "trim_frame_end": ("video", "trimFrameEnd"),
    # Swapline's own (not FaceFusion's): chunking and tracking of video jobs.
    "chunk_size": ("video", "chunkSize"), "face_detector_interval": ("video", "detectorInterval"),
    "hand_occlusion": ("faceMasker", "handOcclusion"),
    "face_tracker_smoothing": ("video", "trackerSmoothing"),
}
# FaceFusion options the server sets itself, refused here with the reason rather than by the API.
_SERVER_OWNED = ("execution_providers", "execution_device_ids", "execution_thread_count", "video_memory_strategy")


def _side(value):
    """'640x640' or 640 -> 640 (FaceFusion writes square sizes as WxH)."""
    if isinstance(value, str):
        parts = value.lower().split("x")
        if len(parts) == 2 and parts[0] == parts[1] and parts[0].isdigit():
            return int(parts[0])
        if value.isdigit():
            return int(value)
    return value


def options_from(facefusion_options):
    """The API's `options` object from FaceFusion-named keyword arguments."""
    options = {}
    for name, value in facefusion_options.items():
        if name in _SERVER_OWNED:
            raise ValueError(f"{name} is set by the server (`swapline serve` options), not by a job")
        if name not in OPTIONS:
            raise ValueError(f"unknown option {name!r}; options take FaceFusion's names, see swapline_client.OPTIONS")
        group, key = OPTIONS[name]
        if name in ("face_detector_size", "face_swapper_pixel_boost"):
            value = _side(value)
        if group is None:
            options[key] = value
        else:
            options.setdefault(group, {})[key] = value
    return options


class Client:
    """One API key on one server. Methods return the API's JSON objects as dicts."""

    def __init__(self, base_url, api_key, timeout=60):
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base_url must be an http(s) URL, not {base_url!r}")
        self._scheme, self._host, self._port = parts.scheme, parts.hostname, parts.port
        self._prefix = parts.path.rstrip("/")
        self._key = api_key
        self.timeout = timeout

    def __repr__(self):
        return f"Client({self._scheme}://{self._host}:{self._port or ''}{self._prefix}, key={self._key.split('_')[1] if self._key.count('_') >= 2 else '?'}…)"

    # ---- HTTP ----

    def _connection(self, timeout=None):
        kind = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
        return kind(self._host, self._port, timeout=timeout or self.timeout)

    def _request(self, method, path, body=None, headers=None, timeout=None, stream=False):
        connection = self._connection(timeout)
        all_headers = {"Authorization": f"Bearer {self._key}", "User-Agent": f"swapline-python/{__version__}", **(headers or {})}
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        try:
            connection.request(method, self._prefix + path, body=body, headers=all_headers)
            response = connection.getresponse()
        except Exception:
            connection.close()
            raise
        if response.status >= 400:
            data = response.read()
            connection.close()
            raise self._error(response, data)
        if stream:
            return connection, response
        data = response.read()
        connection.close()
        return response, data

    @staticmethod
    def _error(response, data):
        try:
            error = json.loads(data)["error"]
            code, message, field = error["code"], error["message"], error.get("field")
        except (ValueError, KeyError, TypeError):
            code, message, field = f"http_{response.status}", data.decode(errors="replace")[:200] or response.reason, None
        kind = _ERRORS.get(response.status, ServerError if response.status >= 500 else SwaplineError)
        retry = response.getheader("Retry-After")
        return kind(response.status, code, message, field, int(retry) if retry and retry.isdigit() else None)

    def _json(self, method, path, body=None, headers=None, timeout=None):
        response, data = self._request(method, path, body, headers, timeout)
        return json.loads(data) if data else None

    # ---- assets ----

    def upload(self, file):
        """Uploads a path (streamed from disk) or bytes; returns the asset."""
        if isinstance(file, (bytes, bytearray)):
            return self._json("POST", "/v1/assets", bytes(file), {"Content-Type": "application/octet-stream"})
        path = Path(file)
        with path.open("rb") as handle:
            headers = {"Content-Type": "application/octet-stream", "Content-Length": str(path.stat().st_size)}
            return self._json("POST", "/v1/assets", handle, headers, timeout=max(self.timeout, 600))

    def asset(self, asset_id):
        return self._json("GET", f"/v1/assets/{_id(asset_id)}")

    # ---- jobs ----

    def submit(self, sources, target, *, output_format=None, webhook=None, idempotency_key=None, wait=None,
               options=None, **facefusion_options):
        """Submits a job. `sources`/`target` are asset ids (`as_…`), asset dicts or local paths
        (uploaded first). Options take FaceFusion's names (`face_swapper_model="inswapper_128"`),
        or `options=` the API's JSON configuration. `wait=N` holds an image job's answer up to N s."""
        sources = [self._asset_id(source) for source in ([sources] if isinstance(sources, (str, Path)) else sources)]
        body = {"sources": sources, "target": self._asset_id(target)}
        merged = dict(options or {})
        for group, values in options_from(facefusion_options).items():
            merged[group] = {**merged.get(group, {}), **values} if isinstance(values, dict) else values
        if merged:
            body["options"] = merged
        if output_format:
            body["output_format"] = output_format
        if webhook:
            body["webhook"] = webhook if isinstance(webhook, dict) else {"url": webhook}
        headers = {}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        if wait:
            headers["Prefer"] = f"wait={int(wait)}"
        return self._json("POST", "/v1/jobs", body, headers, timeout=max(self.timeout, (wait or 0) + 30))

    def _asset_id(self, item):
        if isinstance(item, dict):
            return item["id"]
        if isinstance(item, str) and item.startswith("as_") and not Path(item).exists():
            return item
        return self.upload(item)["id"]

    def job(self, job):
        return self._json("GET", f"/v1/jobs/{_id(job)}")

    def jobs(self, status=None, page_size=50):
        """Every job of this tenant, newest first (follows the cursor)."""
        after = None
        while True:
            query = {"limit": page_size, **({"status": status} if status else {}), **({"after": after} if after else {})}
            page = self._json("GET", "/v1/jobs?" + urllib.parse.urlencode(query))
            yield from page["data"]
            if not page["has_more"]:
                return
            after = page["next_cursor"]

    def cancel(self, job):
        return self._json("POST", f"/v1/jobs/{_id(job)}/cancel")

    def retry(self, job):
        return self._json("POST", f"/v1/jobs/{_id(job)}/retry")

    def delete(self, job):
        self._request("DELETE", f"/v1/jobs/{_id(job)}")

    def models(self):
        return self._json("GET", "/v1/models")["data"]

    def events(self, job, timeout=None):
        """The job's server-sent events as (event, data) pairs, until the stream ends."""
        connection, response = self._request("GET", f"/v1/jobs/{_id(job)}/events", timeout=timeout or max(self.timeout, 60), stream=True)
        try:
            event, data = None, []
            for raw in response:
                line = raw.decode().rstrip("\r\n")
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].lstrip(" "))
                elif line == "" and event:
                    yield event, json.loads("\n".join(data))
                    event, data = None, []
        finally:
            connection.close()

    def wait(self, job, on_progress=None, timeout=None, raise_on_failure=False):
        """Follows the event stream until the job ends; returns the final job. `on_progress(progress)`
        is called with each progress object (frames_done, frames_total, fps, eta_seconds, chunks).
        The stream is reopened if it drops; `timeout` (seconds) raises TimeoutError."""
        deadline = time.monotonic() + timeout if timeout else None
        final = None
        while final is None:
            if deadline and time.monotonic() > deadline:
                raise TimeoutError(f"job {_id(job)} did not end within {timeout} s")
            try:
                for event, data in self.events(job, timeout=min(60, max(1, deadline - time.monotonic())) if deadline else None):
                    if event == "progress" and on_progress:
                        on_progress(data)
                    elif event == "done":
                        final = data
                        break
                    if deadline and time.monotonic() > deadline:
                        raise TimeoutError(f"job {_id(job)} did not end within {timeout} s")
            except (OSError, http.client.HTTPException):
                time.sleep(1)   # the server restarted or the connection dropped: reconnect
            if final is None:
                current = self.job(job)
                if current["status"] in ("succeeded", "failed", "canceled"):
                    final = current
        if raise_on_failure and final["status"] != "succeeded":
            raise JobFailed(final)
        return final

    def download(self, job, path):
        """Writes the job's output to `path` (streamed; written to path.part, then renamed)."""
        path = Path(path)
        partial = path.with_name(path.name + ".part")
        connection, response = self._request("GET", f"/v1/jobs/{_id(job)}/output", timeout=max(self.timeout, 600), stream=True)
        try:
            with partial.open("wb") as handle:
                while chunk := response.read(1 << 20):
                    handle.write(chunk)
            os.replace(partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        finally:
            connection.close()
        return path


def _id(job_or_id):
    return job_or_id["id"] if isinstance(job_or_id, dict) else str(job_or_id)


def swap(source_paths, target_path, output_path, *, base_url=None, api_key=None, on_progress=None, timeout=None, **options):
    """FaceFusion-style one call: uploads, submits, waits and writes `output_path`; returns the job.
    `base_url` and `api_key` default to $SWAPLINE_URL and $SWAPLINE_API_KEY. Raises JobFailed."""
    base_url = base_url or os.environ.get("SWAPLINE_URL", "http://127.0.0.1:8080")
    api_key = api_key or os.environ.get("SWAPLINE_API_KEY")
    if not api_key:
        raise ValueError("an API key is needed: api_key= or $SWAPLINE_API_KEY")
    client = Client(base_url, api_key)
    sources = [source_paths] if isinstance(source_paths, (str, Path)) else source_paths
    suffix = Path(output_path).suffix.lstrip(".").lower()
    job = client.submit(sources, target_path, output_format=suffix or None, **options)
    job = client.wait(job, on_progress=on_progress, timeout=timeout, raise_on_failure=True)
    client.download(job, output_path)
    return job
