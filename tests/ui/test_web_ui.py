"""The page at `/`, driven in a real headless Chromium against a real `swapline serve` on loopback.

Screenshots of each state, at desktop and phone width, are written to out/ui-screenshots/
(or $SWAPLINE_UI_SCREENSHOTS) for a person to look at; the assertions are what the page shows.
"""
import os
import re
import shutil
import sys
import time
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from conftest import ROOT, SAMPLES, Server, decoded, make_clip  # noqa: E402

SHOTS = Path(os.environ.get("SWAPLINE_UI_SCREENSHOTS", ROOT / "out" / "ui-screenshots"))
DESKTOP, PHONE = (1280, 900), (390, 844)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return tmp_path_factory.mktemp("swapline-ui")


@pytest.fixture(scope="module")
def server(workspace):
    with Server(workspace / "data") as server:
        yield server


@pytest.fixture(scope="module")
def idle_server(workspace):
    """Renders nothing (--workers 0): jobs stay queued, for the list, paging and cancel."""
    with Server(workspace / "idle", ["--workers", "0"]) as server:
        yield server


@pytest.fixture(scope="module")
def browser(workspace):
    downloads = workspace / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--autoplay-policy=no-user-gesture-required",
                     f"--window-size={DESKTOP[0]},{DESKTOP[1]}"]:
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


@pytest.fixture(autouse=True)
def full_speed_network(request):
    """A test that throttles the browser's network (CDP) must not leave it throttled for the
    next test when it fails half-way (the browser is shared by the module)."""
    yield
    if "browser" in request.fixturenames:
        driver = request.getfixturevalue("browser")
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.emulateNetworkConditions",
                               {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})


def wait(driver, condition, timeout=30, message=""):
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.05).until(lambda d: condition())
    except TimeoutException:
        raise AssertionError(f"timed out after {timeout} s: {message}") from None


def element(driver, element_id):
    return driver.find_element(By.ID, element_id)


def shoot(driver, name):
    """The whole page at desktop and at phone width (the viewport grows to the page's height)."""
    for label, (width, height) in (("desktop", DESKTOP), ("phone", PHONE)):
        metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": label == "phone"}
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        full = driver.execute_script("return document.documentElement.scrollHeight")
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**metrics, "height": max(height, full)})
        driver.save_screenshot(str(SHOTS / f"{name}-{label}.png"))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def sign_in(driver, server, key):
    # The tab's saved key for this origin is cleared on a page that runs no app code: cleared on
    # the app's own page, a sign-in still in flight from that load could save the key again
    # after the clear, and the next load would sign in by itself (CI caught that race).
    driver.get(f"http://127.0.0.1:{server.port}/healthz")
    driver.execute_script("sessionStorage.clear()")
    driver.get(f"http://127.0.0.1:{server.port}/")
    field = element(driver, "api-key")
    wait(driver, lambda: field.is_displayed() and field.is_enabled(), message="the API key field")
    field.clear()
    field.send_keys(key)
    element(driver, "sign-in-button").click()


def signed_in(driver, server, key):
    sign_in(driver, server, key)
    wait(driver, lambda: element(driver, "workspace").is_displayed(), message="the workspace after signing in")


def upload_states(driver, list_id):
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, f"#{list_id} .state")]


def row_ids(driver):
    return driver.execute_script("return [...document.querySelectorAll('#jobs-body tr')].map(r => r.dataset.job)")


def row_text(driver, job):
    return driver.execute_script("const r = document.querySelector(`#jobs-body tr[data-job='${arguments[0]}']`); return r ? r.innerText : ''", job)


def click_row_action(driver, job, action):
    """A real click on a row's button; the list re-renders while jobs move, so find it afresh."""
    for _ in range(20):
        try:
            driver.find_element(By.CSS_SELECTOR, f"#jobs-body tr[data-job='{job}'] button[data-action={action}]").click()
            return
        except StaleElementReferenceException:
            time.sleep(0.05)
    raise AssertionError(f"could not click {action} on job {job}")


def test_a_wrong_key_is_refused_with_a_clear_message(browser, server):
    sign_in(browser, server, "sl_notakey_0123456789")
    error = element(browser, "api-key-error")
    wait(browser, error.is_displayed, message="the sign-in error")
    assert error.text == "That key was refused: a valid API key is needed: Authorization: Bearer <key>"
    assert not element(browser, "workspace").is_displayed()
    assert browser.execute_script("return sessionStorage.getItem('swapline.key')") is None
    shoot(browser, "error-wrong-key")


def test_every_control_has_a_label(browser, server):
    signed_in(browser, server, server.tenant("labels")["api_key"])
    unlabelled = browser.execute_script("""
      return [...document.querySelectorAll('input, select, button, progress')].filter(e => {
        if (e.labels && e.labels.length) return false;
        if (e.getAttribute('aria-label')) return false;
        if (e.tagName === 'BUTTON' && e.textContent.trim()) return false;
        return true;
      }).map(e => e.id || e.outerHTML.slice(0, 80));""")
    assert unlabelled == []
    # The keyboard reaches the file pickers and the options in page order.
    browser.execute_script("document.activeElement.blur()")
    focused = []
    for _ in range(12):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        focused.append(browser.switch_to.active_element.get_attribute("id"))
    assert "sources-input" in focused and "target-input" in focused and "face-swapper-model" in focused, focused


def test_an_image_swap_from_upload_to_download(browser, server):
    key = server.tenant("editor")["api_key"]
    signed_in(browser, server, key)
    # Only the offline pack is on this server: zoo swappers are listed, disabled, with the reason.
    swappers = Select(element(browser, "face-swapper-model")).options
    assert swappers[0].get_attribute("value") == "classic" and swappers[0].is_selected()
    inswapper = [o for o in swappers if o.get_attribute("value") == "inswapper_128"][0]
    assert not inswapper.is_enabled() and inswapper.text == "inswapper_128: not on this server"
    assert "not in the server's models folder" in inswapper.get_attribute("title")
    assert "licence InsightFace-NonCommercial" in element(browser, "face-swapper-model-info").text
    assert element(browser, "submit").get_attribute("disabled") is not None
    shoot(browser, "empty-form")

    element(browser, "sources-input").send_keys(str(SAMPLES / "grace_hopper.jpg"))
    element(browser, "target-input").send_keys(str(SAMPLES / "astronaut.png"))
    submit = element(browser, "submit")
    wait(browser, lambda: submit.is_enabled(), message="the submit button after both uploads")
    assert upload_states(browser, "sources-list") == ["ready: JPG 512×600"]
    assert upload_states(browser, "target-list") == ["ready: PNG 512×512"]
    thumbnails = browser.execute_script("return [...document.querySelectorAll('.uploads img')].map(i => i.naturalWidth)")
    assert thumbnails == [512, 512]
    # A value the API refuses: its message appears under that field, and no job is made.
    quality = element(browser, "output-image-quality")
    quality.clear()
    quality.send_keys("150")
    submit.click()
    quality_error = element(browser, "output-image-quality-error")
    wait(browser, quality_error.is_displayed, message="the quality error")
    assert quality_error.text == "options.output.imageQuality takes 0 to 100"
    assert server.request("GET", "/v1/jobs", key=key).json()["data"] == []
    quality.clear()
    quality.send_keys("90")
    submit.click()

    status = element(browser, "job-status")
    wait(browser, lambda: status.text == "SUCCEEDED", timeout=120, message=f"the job to succeed (status {status.text})")
    after = element(browser, "compare-after")
    wait(browser, lambda: browser.execute_script("return arguments[0].naturalWidth", after) == 512, message="the result image")
    assert element(browser, "compare").is_displayed() and after.is_displayed()
    assert browser.execute_script("return arguments[0].naturalWidth", element(browser, "compare-before")) == 512
    shoot(browser, "result-image")

    job_id = browser.execute_script("return state.followed.id")
    download = element(browser, "job-download")
    assert download.get_attribute("download") == f"swapline-{job_id}.png"
    download.click()
    saved = browser.downloads / f"swapline-{job_id}.png"
    wait(browser, saved.exists, message=f"{saved.name} in the download folder")
    time.sleep(0.2)
    data = saved.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and b"swapline.provenance" in data
    assert data == server.request("GET", f"/v1/jobs/{job_id}/output", key=key).body
    # The jobs list shows it, newest first.
    wait(browser, lambda: row_ids(browser)[:1] == [job_id] and "SUCCEEDED" in row_text(browser, job_id), message="the job in the list")
    # A new tab session (reload keeps the key): opened from the list, the before image comes from the API.
    browser.refresh()
    wait(browser, lambda: row_ids(browser)[:1] == [job_id], message="the list after a reload")
    assert element(browser, "job-body").get_attribute("hidden") is not None
    click_row_action(browser, job_id, "open")
    before = element(browser, "compare-before")
    wait(browser, lambda: browser.execute_script("return arguments[0].naturalWidth", before) == 512, message="the before image from the API")
    assert browser.execute_script("return arguments[0].naturalWidth", element(browser, "compare-after")) == 512


def test_a_video_swap_shows_upload_progress_live_chunks_and_plays(browser, server, workspace):
    key = server.tenant("studio")["api_key"]
    signed_in(browser, server, key)
    clip = make_clip(workspace / "clip.mp4", seconds=4)   # 100 frames
    element(browser, "sources-input").send_keys(str(SAMPLES / "grace_hopper.jpg"))
    wait(browser, lambda: upload_states(browser, "sources-list") == ["ready: JPG 512×600"], message="the source upload")

    # Slow the network so the upload is seen in flight; its bar moves with the bytes sent.
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.emulateNetworkConditions",
                            {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": clip.stat().st_size / 3})
    element(browser, "target-input").send_keys(str(clip))
    bar = lambda: browser.execute_script("const p = document.querySelector('#target-list progress'); return p ? p.value : -1")
    wait(browser, lambda: 0.2 < bar() < 0.8, timeout=20, message=f"the target upload half-way (at {bar()})")
    assert upload_states(browser, "target-list")[0].startswith("uploading… ")
    # The thumbnail is the browser's own decode of the local file: it needs no upload, but its
    # timing is the browser's (slower on a loaded machine), so it is waited for, not raced.
    wait(browser, lambda: browser.execute_script("return document.querySelector('#target-list canvas').dataset.drawn") == "true",
         timeout=20, message="the video's first frame drawn as its thumbnail")
    shoot(browser, "uploading")
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    wait(browser, lambda: upload_states(browser, "target-list") == ["ready: video 640×360, 100 frames, 4.0 s"], message="the target upload")

    # Ten chunks of ten frames, so the strip has something to show.
    element(browser, "job-form").find_element(By.TAG_NAME, "summary").click()
    chunk = element(browser, "chunk-size")
    chunk.clear()
    chunk.send_keys("10")
    element(browser, "submit").click()

    strip, status = element(browser, "chunk-strip"), element(browser, "job-status")
    seen, strips, shot = [], [], False
    deadline = time.time() + 180
    while status.text != "SUCCEEDED" and time.time() < deadline:
        done = int(strip.get_attribute("data-done") or -1)
        cells = len(strip.find_elements(By.CLASS_NAME, "cell"))
        strip_now = browser.execute_script(
            "return [...document.querySelectorAll('#chunk-strip .cell')].map(c => ({done: 'd', leased: 'l', pending: 'p', dead: 'x'})[c.classList[1]]).join('')")
        if strip_now and (not strips or strips[-1] != strip_now):
            strips.append(strip_now)
        if cells and (not seen or seen[-1] != (done, cells)):   # from the job card's first render
            seen.append((done, cells))
        if not shot and status.text == "PROCESSING" and 2 <= done <= 7:
            shoot(browser, "progress")
            shot = True
        time.sleep(0.05)
    assert status.text == "SUCCEEDED", seen
    assert all(cells == 10 for _, cells in seen), seen
    # One worker renders chunks in frame order: done cells first, then the one rendering, then pending.
    assert all(re.fullmatch("d*l*p*", strip) for strip in strips) and len(strips) >= 4, strips
    dones = [done for done, _ in seen]
    assert dones == sorted(dones) and dones[-1] == 10 and len(set(dones)) >= 4, seen   # the strip advanced in steps
    assert "100 / 100 frames" in element(browser, "job-stats").text

    video = element(browser, "result-video")
    wait(browser, lambda: browser.execute_script("return arguments[0].readyState >= 1 && arguments[0].duration > 0", video),
         message="the result video's metadata")
    duration = browser.execute_script("return arguments[0].duration", video)
    assert abs(duration - 4) < 0.2, duration
    browser.execute_script("arguments[0].play()", video)
    wait(browser, lambda: browser.execute_script("return arguments[0].currentTime", video) > 0.3, message="the video playing")
    shoot(browser, "result-video")

    # The download button saves what the page plays: the API's output, byte for byte.
    job_id = browser.execute_script("return state.followed.id")
    assert video.get_attribute("src") == element(browser, "job-download").get_attribute("href")
    element(browser, "job-download").click()
    saved = browser.downloads / f"swapline-{job_id}.mp4"
    wait(browser, saved.exists, message=f"{saved.name} in the download folder")
    time.sleep(0.2)
    assert saved.read_bytes() == server.request("GET", f"/v1/jobs/{job_id}/output", key=key).body
    assert len(decoded(saved, "-an")) == 100


def test_a_dropped_file_uploads_and_file_names_stay_text(browser, idle_server, workspace):
    signed_in(browser, idle_server, idle_server.tenant("dropper")["api_key"])
    # A PNG made in the page, dropped on the sources zone as a user's drag would.
    browser.execute_async_script("""
      const done = arguments[0];
      const canvas = document.createElement('canvas'); canvas.width = 64; canvas.height = 48;
      canvas.getContext('2d').fillRect(0, 0, 20, 20);
      canvas.toBlob(blob => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([blob], 'dropped.png', {type: 'image/png'}));
        document.getElementById('sources-drop').dispatchEvent(new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true}));
        done();
      }, 'image/png');""")
    wait(browser, lambda: upload_states(browser, "sources-list") == ["ready: PNG 64×48"], message="the dropped file's upload")
    # A file name that is markup is shown as text and never runs.
    named = workspace / "<img src=x onerror=window.pwned=1>.png"
    shutil.copy(SAMPLES / "grace_hopper.jpg", named)
    element(browser, "sources-input").send_keys(str(named))
    wait(browser, lambda: len(upload_states(browser, "sources-list")) == 2 and upload_states(browser, "sources-list")[1].startswith("ready"),
         message="the second source")
    names = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#sources-list .name")]
    assert names == ["dropped.png", named.name]
    assert browser.execute_script("return window.pwned === undefined && document.querySelectorAll('#sources-list img').length === 2")


def test_an_oversized_upload_shows_the_apis_413_message(browser, idle_server):
    key = idle_server.tenant("small", "--max-upload-bytes", "100000")["api_key"]
    signed_in(browser, idle_server, key)
    element(browser, "target-input").send_keys(str(SAMPLES / "astronaut.png"))
    error = element(browser, "target-error")
    wait(browser, error.is_displayed, message="the upload error")
    size = (SAMPLES / "astronaut.png").stat().st_size
    message = f"the upload is {size} bytes; this tenant's limit is 100000"
    assert error.text == message
    assert upload_states(browser, "target-list") == ["refused (see below)"]
    assert element(browser, "submit").get_attribute("disabled") is not None
    assert element(browser, "submit-help").text == "Remove the refused upload first."
    shoot(browser, "error-upload-too-large")


def test_the_jobs_list_pages_filters_and_cancels(browser, idle_server):
    key = idle_server.tenant("lister")["api_key"]
    source = idle_server.upload(key, SAMPLES / "grace_hopper.jpg")
    target = idle_server.upload(key, SAMPLES / "astronaut.png")
    ids = [idle_server.submit(key, {"sources": [source["id"]], "target": target["id"]})["id"] for _ in range(12)]
    signed_in(browser, idle_server, key)
    rows = lambda: row_ids(browser)
    wait(browser, lambda: len(rows()) == 10, message="the first page of jobs")
    assert rows() == ids[::-1][:10]
    element(browser, "jobs-older").click()
    wait(browser, lambda: rows() == ids[1::-1], message="the second page")
    assert element(browser, "jobs-older").get_attribute("disabled") is not None
    element(browser, "jobs-newer").click()
    wait(browser, lambda: rows() == ids[::-1][:10], message="back to the first page")

    click_row_action(browser, ids[-1], "cancel")
    wait(browser, lambda: "CANCELED" in row_text(browser, ids[-1]),
         message="the canceled status in the list")
    assert idle_server.job(key, ids[-1])["status"] == "canceled"
    Select(element(browser, "jobs-filter")).select_by_value("canceled")
    wait(browser, lambda: rows() == [ids[-1]], message="the canceled filter")
    # Retry from the list puts it back in the queue.
    click_row_action(browser, ids[-1], "retry")
    wait(browser, lambda: rows() == [], message="the retried job leaving the canceled filter")
    assert idle_server.job(key, ids[-1])["status"] == "queued"
    Select(element(browser, "jobs-filter")).select_by_value("")
    wait(browser, lambda: rows() == ids[::-1][:10], message="all jobs again")
    click_row_action(browser, ids[-1], "cancel")
    wait(browser, lambda: "CANCELED" in row_text(browser, ids[-1]), message="canceled again")
    # The list refreshes every 3 s while jobs are queued: an armed Delete and the focus survive it.
    click_row_action(browser, ids[2], "delete")
    armed = lambda: browser.execute_script(
        f"return document.querySelector(`#jobs-body tr[data-job='{ids[2]}'] button[data-action=delete]`).textContent")
    assert armed() == "Confirm delete"
    before = browser.execute_script("return performance.getEntriesByType('resource').filter(e => e.name.includes('/v1/jobs?')).length")
    time.sleep(3.5)
    assert browser.execute_script("return performance.getEntriesByType('resource').filter(e => e.name.includes('/v1/jobs?')).length") > before
    assert armed() == "Confirm delete"
    assert browser.switch_to.active_element.get_attribute("data-action") == "delete"
    browser.switch_to.active_element.click()
    wait(browser, lambda: ids[2] not in row_ids(browser), message="the deleted job leaving the list")
    assert idle_server.request("GET", f"/v1/jobs/{ids[2]}", key=key).status == 404
    # One Delete is armed at a time, and an unconfirmed one disarms itself (10 s) without deleting.
    delete_text = lambda job: browser.execute_script(
        f"return document.querySelector(`#jobs-body tr[data-job='{job}'] button[data-action=delete]`).textContent")
    click_row_action(browser, ids[3], "delete")
    assert delete_text(ids[3]) == "Confirm delete"
    click_row_action(browser, ids[4], "delete")
    assert (delete_text(ids[3]), delete_text(ids[4])) == ("Delete", "Confirm delete")
    armed_at = time.monotonic()
    wait(browser, lambda: delete_text(ids[4]) == "Delete", timeout=20, message="the unconfirmed Delete disarming")
    assert time.monotonic() - armed_at > 8
    assert idle_server.job(key, ids[4])["status"] == "queued" and ids[4] in row_ids(browser)
    # Canceling a job that ended meanwhile is refused, and the API's words are shown.
    Select(element(browser, "jobs-filter")).select_by_value("queued")
    wait(browser, lambda: rows() == [i for i in ids[-2::-1] if i != ids[2]][:10], message="the queued filter")
    idle_server.request("POST", f"/v1/jobs/{ids[-2]}/cancel", key=key)
    click_row_action(browser, ids[-2], "cancel")
    error = element(browser, "jobs-error")
    wait(browser, error.is_displayed, message="the list's error")
    assert error.text == "the job is canceled; only queued or processing jobs can be canceled"


def test_the_page_is_public_static_and_locked_down(idle_server):
    """The page needs no key and holds no data; its headers forbid inline code and framing."""
    for path, kind in (("/", "text/html"), ("/ui/app.js", "text/javascript"), ("/ui/app.css", "text/css")):
        response = idle_server.request("GET", path)
        assert response.status == 200 and response.header("Content-Type").startswith(kind)
        policy = response.header("Content-Security-Policy")
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
        assert response.header("X-Content-Type-Options") == "nosniff"
    assert idle_server.request("GET", "/ui/../jobs.sqlite").status == 404
    assert idle_server.request("GET", "/ui/index.html.bak").status == 404
    assert idle_server.request("GET", "/v1/jobs").status == 401
