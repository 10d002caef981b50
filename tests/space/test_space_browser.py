"""The Space in a real browser: `python space/app.py` on localhost with a tiny model, driven by headless Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from space_testing import SPACE_DIR, save_tiny_space_model

from modeling_speechverse import SpeechVerseForConditionalGeneration, SpeechVerseProcessor
from modeling_speechverse.tasks import get_task

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,1400",
)
CLIP = SPACE_DIR / "examples" / "turn_on_the_radio.wav"
STARTUP_TIMEOUT_S = 120

pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
    reason=f"needs the Debian chromium and chromium-driver packages ({CHROMIUM}, {CHROMEDRIVER})",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return save_tiny_space_model(tmp_path_factory.mktemp("space-model"))


@pytest.fixture(scope="module")
def app(checkpoint, tmp_path_factory):
    """The Space as a subprocess; yields (url, process); the log is shown if it does not come up."""
    workdir = tmp_path_factory.mktemp("space-app")
    port = free_port()
    env = {
        **os.environ,
        "SPEECHVERSE_MODEL": str(checkpoint),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "GRADIO_TEMP_DIR": str(workdir / "gradio"),
        "HF_HUB_OFFLINE": "1",
    }
    log_path = workdir / "app.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, str(SPACE_DIR / "app.py"), "--host", "127.0.0.1", "--port", str(port)],
            env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        if process.poll() is not None:
            pytest.fail(f"the app exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the app did not answer within {STARTUP_TIMEOUT_S} s:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.5)
    yield url, process
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def browser(tmp_path):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()
    shutil.rmtree(tmp_path / "chromium-profile", ignore_errors=True)


def value_of(driver, selector: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, selector).get_attribute("value")


def upload(driver, wait: WebDriverWait, path: Path) -> None:
    clear = driver.find_elements(By.CSS_SELECTOR, "#audio button[aria-label='Clear']")
    if clear:
        clear[0].click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#audio input[type=file]"))
    driver.find_element(By.CSS_SELECTOR, "#audio input[type=file]").send_keys(str(path))


def submit_and_read_answer(driver, wait: WebDriverWait) -> str:
    """Submit, wait for the finished answer (the parsed label appears under it last) and return it."""
    driver.find_element(By.CSS_SELECTOR, "#submit").click()
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#details").text.strip())
    return value_of(driver, "#answer textarea")


def wait_for_toast(driver, wait: WebDriverWait, text: str) -> str:
    try:
        return wait.until(
            lambda d: next(
                (t.text for t in d.find_elements(By.CSS_SELECTOR, "[data-testid='toast-body']") if text in t.text),
                None,
            )
        )
    except TimeoutException:
        toasts = [t.text for t in driver.find_elements(By.CSS_SELECTOR, "[data-testid='toast-body']")]
        pytest.fail(f"no message containing {text!r} in the page; toasts: {toasts}")


def expected_answer(checkpoint: Path, instruction: str) -> str:
    """What the model itself generates for the clip with the page's default decoding (greedy, 64 tokens)."""
    model = SpeechVerseForConditionalGeneration.from_pretrained(checkpoint)
    processor = SpeechVerseProcessor.from_pretrained(checkpoint)
    inputs = processor(audio=str(CLIP), text=instruction)
    generated = model.generate(**inputs, max_new_tokens=64, num_beams=1, do_sample=False)
    return processor.batch_decode(generated, skip_special_tokens=True)[0]


def test_upload_pick_a_task_submit_then_bad_files_keep_the_app_serving(app, browser, checkpoint, tmp_path):
    url, process = app
    wait = WebDriverWait(browser, 60)
    browser.get(url)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#submit"))

    upload(browser, wait, CLIP)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#audio a.download-link"))  # the clip is in the player
    browser.find_element(By.CSS_SELECTOR, "#task input").click()
    browser.find_element(By.CSS_SELECTOR, "li[role='option'][aria-label^='KWS:']").click()
    wait.until(lambda d: value_of(d, "#labels textarea, #labels input") == "yes, no")
    instruction = value_of(browser, "#instruction textarea")
    kws = get_task("KWS")
    assert instruction in {kws.fill_instruction(t, keyword="radio") for t in kws.instructions("train")}

    answer = submit_and_read_answer(browser, wait)
    browser.save_screenshot(str(tmp_path / "space-answer.png"))
    assert answer.strip()
    assert " ".join(answer.split()) == " ".join(expected_answer(checkpoint, instruction).split())

    # A non-audio file: the page's own file-type check refuses a .txt, and a text file named .wav reaches the
    # app, which says it is not audio.
    notes = tmp_path / "notes.txt"
    notes.write_text("meeting notes, not audio")
    upload(browser, wait, notes)
    wait_for_toast(browser, wait, "Invalid file type")
    disguised = tmp_path / "notes.wav"
    disguised.write_text("meeting notes, not audio")
    upload(browser, wait, disguised)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#audio a.download-link"))
    browser.find_element(By.CSS_SELECTOR, "#submit").click()
    wait_for_toast(browser, wait, "This file is not audio that can be read")
    browser.save_screenshot(str(tmp_path / "space-error.png"))
    assert value_of(browser, "#answer textarea") == ""  # no stale answer next to the error

    # The app is still serving: the clip again gives the same answer.
    assert process.poll() is None
    upload(browser, wait, CLIP)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#audio a.download-link"))
    assert submit_and_read_answer(browser, wait) == answer
