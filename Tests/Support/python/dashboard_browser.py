#!/usr/bin/env python3
"""Drives the trigger-email dashboard in headless Chromium for DashboardBrowserTests.swift.

The script opens the dashboard of a running `trigger-email serve`, acts as a
user would (typing, clicking, pressing Enter), and prints one JSON line to
stdout with what it observed. The Swift test makes the assertions. When a
step fails, the report's "failure" names it, and the values observed until
then are still reported.

Cases (--case):
  live     Enters --token when the page requires it. Adds --documents
           documents through the API while the list is open, and records
           every state each row shows until all are SUCCESS. Then searches,
           filters, and opens one document with the keyboard.
  retry    Opens --document (in ERROR), checks the HTML preview, presses
           Retry and waits for SUCCESS. Then retries --retry-all-document
           (also in ERROR) with "Retry all ERROR documents".
  russian  Opens the list and a document in a Russian browser and records
           the page's texts. Loads the second page of the list.

Chromium and chromedriver are Debian's (/usr/bin/chromium,
/usr/bin/chromedriver); Selenium Manager is never started, so nothing is
downloaded. Host names other than localhost do not resolve in the browser,
and every connection that is not to loopback goes to a closed port, so the
browser reaches only the servers of the test.

With --watch-stdin the script also stops, and quits the browser, when its
standard input reaches end of file, so a test process that dies leaves no
browser behind. The parent then keeps a pipe open on standard input.

Exit status: 0 when the report was printed (even with a failure in it), 1
when the browser could not be started, 2 for invalid arguments.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import secrets
import signal
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

# Seconds one wait for the page may take. Delivery through the slow SMTP
# server of the live case takes about 10 s (five messages, 2 s each), so this
# leaves room on a loaded machine without letting a stuck page hang the test.
STEP_TIMEOUT = 45

# The API is on loopback, so no proxy from the environment may be used.
API_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

# Records every state shown by each list row, including ones that lasted
# only between two polls of this script.
ROW_STATE_RECORDER = """
window.__rowStates = {};
const record = () => {
  for (const row of document.querySelectorAll('#rows tr')) {
    const states = window.__rowStates[row.dataset.id] ??= [];
    if (states[states.length - 1] !== row.dataset.state) states.push(row.dataset.state);
  }
};
new MutationObserver(record).observe(document.getElementById('rows'),
  { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
record();
"""

# Records every delivery.state shown on the document page.
DOCUMENT_STATE_RECORDER = """
window.__documentStates = [];
const record = () => {
  const element = document.querySelector('#delivery-fields [data-field="delivery.state"]');
  const state = element ? element.textContent : null;
  const states = window.__documentStates;
  if (state !== null && states[states.length - 1] !== state) states.push(state);
};
new MutationObserver(record).observe(document.getElementById('delivery-fields'),
  { subtree: true, childList: true, characterData: true });
record();
"""


class StepFailed(Exception):
    """A step of a case did not reach its expected result in time."""


# Browser


def set_parent_death_signal() -> None:
    """Ends chromedriver when this script dies without quitting it (Linux prctl)."""
    PR_SET_PDEATHSIG = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def start_browser(args: argparse.Namespace) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # Chromium does not start as root with its sandbox on, and the page under
    # test is the test's own, so the sandbox is turned off.
    for argument in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--window-size=1280,1000",
        f"--user-data-dir={args.profile}",
        f"--lang={args.language}",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-domain-reliability",
        "--disable-sync",
        "--disable-extensions",
        "--disable-client-side-phishing-detection",
        "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
        "--proxy-server=http://127.0.0.1:9",
        "--proxy-bypass-list=127.0.0.1;localhost;[::1]",
    ]:
        options.add_argument(argument)
    accept_languages = "ru-RU,ru" if args.language == "ru" else "en-US,en"
    options.add_experimental_option("prefs", {"intl.accept_languages": accept_languages})

    # SE_* variables could point Selenium at another driver, so they are left out.
    environment = {key: value for key, value in os.environ.items() if not key.startswith("SE_")}
    service = Service(
        executable_path=CHROMEDRIVER,
        log_output=str(Path(args.profile).parent / "chromedriver.log"),
        env=environment,
        popen_kw={"preexec_fn": set_parent_death_signal},
    )
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(10)
    return driver


def wait_for(driver: webdriver.Chrome, description: str, condition: Callable[[webdriver.Chrome], Any],
             timeout: float = STEP_TIMEOUT) -> Any:
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.05).until(condition)
    except TimeoutException:
        raise StepFailed(f"timed out after {timeout} s waiting for {description}") from None


def script(driver: webdriver.Chrome, source: str, *arguments: Any) -> Any:
    return driver.execute_script(source, *arguments)


def connection_state(driver: webdriver.Chrome) -> str:
    return script(driver, "return document.getElementById('connection').dataset.state || ''")


def wait_until_live(driver: webdriver.Chrome) -> None:
    wait_for(driver, "the dashboard's event stream to connect", lambda d: connection_state(d) == "live")


def row_states(driver: webdriver.Chrome) -> dict[str, str]:
    return script(driver, "return Object.fromEntries([...document.querySelectorAll('#rows tr')]"
                          ".map((row) => [row.dataset.id, row.dataset.state]))")


def counts(driver: webdriver.Chrome) -> dict[str, str]:
    return script(driver, "return Object.fromEntries([...document.querySelectorAll('[data-count-state]')]"
                          ".map((link) => [link.dataset.countState, link.querySelector('.count-value').textContent]))")


def document_state(driver: webdriver.Chrome) -> str | None:
    return script(driver, "const element = document.querySelector("
                          "'#delivery-fields [data-field=\"delivery.state\"]');"
                          "return element && !document.getElementById('document-body').hidden"
                          " ? element.textContent : null")


def set_marker(driver: webdriver.Chrome) -> str:
    """Stores a random value on window, which a reload would lose."""
    marker = secrets.token_hex(8)
    script(driver, "window.__dashboardMarker = arguments[0]", marker)
    return marker


def page_kept(driver: webdriver.Chrome, marker: str) -> bool:
    return script(driver, "return window.__dashboardMarker === arguments[0]"
                          " && performance.getEntriesByType('navigation').length === 1", marker)


def save_screenshot(driver: webdriver.Chrome, args: argparse.Namespace, name: str, report: dict) -> None:
    path = Path(args.screenshot_dir) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    # The viewport grows to the page's height, so the screenshot shows all of it.
    driver.set_window_size(1280, 800)
    height, frame = script(driver, "return [document.documentElement.scrollHeight,"
                                   " window.outerHeight - window.innerHeight]")
    driver.set_window_size(1280, min(int(height), 4000) + int(frame))
    driver.save_screenshot(str(path))
    report.setdefault("screenshots", []).append(str(path))


# API


def api(args: argparse.Namespace, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(args.url.rstrip("/") + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if args.token:
        request.add_header("Authorization", f"Bearer {args.token}")
    with API_OPENER.open(request, timeout=10) as response:
        return json.load(response)


# Cases


def run_live(driver: webdriver.Chrome, args: argparse.Namespace, report: dict) -> None:
    driver.get(args.url)
    report["language"] = script(driver, "return document.documentElement.lang")

    if args.token:
        wait_for(driver, "the token form", lambda d: d.find_element(By.ID, "token-panel").is_displayed())
        report["tokenPanelShown"] = True
        token_input = driver.find_element(By.ID, "token-input")
        report["tokenInputFocused"] = driver.switch_to.active_element == token_input
        token_input.send_keys(args.token, Keys.ENTER)
    wait_until_live(driver)
    report["tokenStored"] = script(driver, "return sessionStorage.getItem('trigger-email.apiToken') !== null")

    marker = set_marker(driver)
    script(driver, ROW_STATE_RECORDER)
    ids = []
    for number in range(1, args.documents + 1):
        document = api(args, "POST", f"/v1/{args.collection}", {
            "to": f"live-{number}@example.org",
            "message": {"subject": f"Live update {number}", "text": f"Message {number}",
                        "html": f"<p>Message <b>{number}</b></p>"},
        })
        ids.append(document["id"])
    report["documents"] = ids

    wait_for(driver, "the last document's row as PENDING", lambda d: row_states(d).get(ids[-1]) == "PENDING")
    save_screenshot(driver, args, "dashboard-live-pending", report)
    wait_for(driver, "every added document to show SUCCESS",
             lambda d: all(row_states(d).get(id) == "SUCCESS" for id in ids))
    report["rowStates"] = script(driver, "return window.__rowStates")
    expected_counts = {"PENDING": "0", "PROCESSING": "0", "SUCCESS": str(len(ids)), "ERROR": "0", "RETRY": "0"}
    try:
        wait_for(driver, "the counts to show every document as SUCCESS", lambda d: counts(d) == expected_counts, timeout=20)
    finally:
        report["counts"] = counts(driver)
    report["pageKept"] = page_kept(driver, marker)
    save_screenshot(driver, args, "dashboard-live-update", report)

    # Search: Enter in the search field submits the filter form.
    search = driver.find_element(By.ID, "search")
    search.send_keys(f"LIVE-{args.documents}@", Keys.ENTER)
    wait_for(driver, "the search to leave one row", lambda d: list(row_states(d)) == [ids[-1]])
    report["searchRows"] = list(row_states(driver))
    driver.find_element(By.ID, "clear-filters").click()
    wait_for(driver, "clearing the search to show every row", lambda d: len(row_states(d)) == len(ids))

    Select(driver.find_element(By.ID, "state-filter")).select_by_value("ERROR")
    no_matches = script(driver, "return JSON.parse(document.getElementById('dashboard-config').textContent).text.noMatches")
    wait_for(driver, "the ERROR filter to leave no rows",
             lambda d: not row_states(d) and d.find_element(By.ID, "list-status").text == no_matches)
    report["errorFilterURL"] = driver.current_url
    report["errorFilterStatus"] = driver.find_element(By.ID, "list-status").text
    Select(driver.find_element(By.ID, "state-filter")).select_by_value("SUCCESS")
    wait_for(driver, "the SUCCESS filter to show every row", lambda d: len(row_states(d)) == len(ids))
    report["successFilterRows"] = len(row_states(driver))

    # Keyboard: Enter on a row's link opens the document page and moves focus to its heading.
    link = driver.find_element(By.CSS_SELECTOR, f'#rows tr[data-id="{ids[-1]}"] a')
    link.send_keys(Keys.ENTER)
    wait_for(driver, "the document page to show SUCCESS", lambda d: document_state(d) == "SUCCESS")
    report["documentPageState"] = document_state(driver)
    report["headingFocused"] = script(driver, "return document.activeElement.id") == "document-heading"
    report["documentRecipients"] = driver.find_element(By.CSS_SELECTOR, '#message-fields [data-field="to"]').text
    report["pageKeptAfterDocument"] = page_kept(driver, marker)

    # A document that does not exist.
    script(driver, "location.hash = '#/doc/no-such-document'")
    wait_for(driver, "the status of a missing document",
             lambda d: "no-such-document" in d.find_element(By.ID, "document-status").text, timeout=10)
    report["missingDocumentStatus"] = driver.find_element(By.ID, "document-status").text


class ImageRequests(BaseHTTPRequestHandler):
    """Counts requests for the remote image that the preview must not load."""

    requests: list[str] = []
    # A 1x1 transparent PNG.
    PIXEL = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a0"
        "0000000049454e44ae426082")

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        ImageRequests.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(self.PIXEL)))
        self.end_headers()
        self.wfile.write(self.PIXEL)

    def log_message(self, format: str, *arguments: Any) -> None:
        print(f"image server: {format % arguments}", file=sys.stderr)


def run_retry(driver: webdriver.Chrome, args: argparse.Namespace, report: dict) -> None:
    image_server = ThreadingHTTPServer(("127.0.0.1", args.image_port), ImageRequests)
    threading.Thread(target=image_server.serve_forever, daemon=True).start()
    try:
        retry_document(driver, args, report)
        retry_all_errors(driver, args, report)
    finally:
        image_server.shutdown()
        image_server.server_close()


def retry_document(driver: webdriver.Chrome, args: argparse.Namespace, report: dict) -> None:
    driver.get(f"{args.url.rstrip('/')}/#/doc/{args.document}")
    wait_until_live(driver)
    wait_for(driver, "the document page to show ERROR", lambda d: document_state(d) == "ERROR")
    report["errorShown"] = driver.find_element(By.CSS_SELECTOR, '#delivery-fields [data-field="delivery.error"]').text

    # The preview: its text renders, its script does not run, and its remote image is not requested.
    frame = driver.find_element(By.ID, "preview")
    report["previewSandbox"] = frame.get_attribute("sandbox")
    driver.switch_to.frame(frame)
    try:
        wait_for(driver, "the preview's text", lambda d: "Preview body" in d.find_element(By.TAG_NAME, "body").text, timeout=10)
        report["previewText"] = driver.find_element(By.TAG_NAME, "body").text
        report["previewScriptRan"] = driver.find_element(By.TAG_NAME, "body").get_attribute("data-script-ran") is not None
    finally:
        driver.switch_to.default_content()
    # Give a request for the image, if the policy let one go, time to arrive.
    time.sleep(1)
    report["remoteImageRequests"] = list(ImageRequests.requests)

    save_screenshot(driver, args, "dashboard-retry-error", report)
    marker = set_marker(driver)
    script(driver, DOCUMENT_STATE_RECORDER)
    button = driver.find_element(By.ID, "retry-document")
    report["retryButtonText"] = button.text
    button.click()
    wait_for(driver, "the document page to show SUCCESS after Retry", lambda d: document_state(d) == "SUCCESS")
    report["documentStates"] = script(driver, "return window.__documentStates")
    report["attemptsShown"] = driver.find_element(By.CSS_SELECTOR, '#delivery-fields [data-field="delivery.attempts"]').text
    report["notice"] = driver.find_element(By.ID, "notice").text
    report["pageKept"] = page_kept(driver, marker)
    save_screenshot(driver, args, "dashboard-retry", report)
    report["marker"] = marker


def retry_all_errors(driver: webdriver.Chrome, args: argparse.Namespace, report: dict) -> None:
    driver.find_element(By.ID, "back-link").click()
    other = args.retry_all_document
    wait_for(driver, "the list to show the other document as ERROR", lambda d: row_states(d).get(other) == "ERROR")
    wait_for(driver, "the ERROR count to be 1", lambda d: counts(d).get("ERROR") == "1", timeout=20)
    script(driver, ROW_STATE_RECORDER)

    driver.find_element(By.ID, "retry-errors").click()
    alert = wait_for(driver, "the confirmation dialog", lambda d: d.switch_to.alert, timeout=10)
    report["confirmText"] = alert.text
    alert.accept()
    wait_for(driver, "the other document to show SUCCESS", lambda d: row_states(d).get(other) == "SUCCESS")
    report["retryAllStates"] = script(driver, "return window.__rowStates[arguments[0]]", other)
    wait_for(driver, "the notice of the retried documents", lambda d: d.find_element(By.ID, "notice").text != "", timeout=10)
    report["retryAllNotice"] = driver.find_element(By.ID, "notice").text
    try:
        wait_for(driver, "the ERROR count to be 0", lambda d: counts(d).get("ERROR") == "0", timeout=20)
    finally:
        report["counts"] = counts(driver)
    report["pageKeptAfterRetryAll"] = page_kept(driver, report["marker"])
    save_screenshot(driver, args, "dashboard-retry-all-errors", report)


def run_russian(driver: webdriver.Chrome, args: argparse.Namespace, report: dict) -> None:
    driver.get(args.url)
    wait_until_live(driver)
    wait_for(driver, "the delivered document's row", lambda d: row_states(d).get(args.document) == "SUCCESS")
    report["language"] = script(driver, "return document.documentElement.lang")
    report["title"] = driver.title
    report["headings"] = [element.text for element in driver.find_elements(By.CSS_SELECTOR, "h2:not([hidden])") if element.is_displayed()]
    report["labels"] = [element.text for element in driver.find_elements(By.CSS_SELECTOR, "label") if element.is_displayed()]
    report["columns"] = [element.text for element in driver.find_elements(By.CSS_SELECTOR, "thead th")]
    report["buttons"] = [element.text for element in driver.find_elements(By.CSS_SELECTOR, "button") if element.is_displayed()]
    report["countStates"] = script(driver, "return [...document.querySelectorAll('[data-count-state]')]"
                                           ".map((link) => link.querySelector('.count-state').textContent)")
    report["listStatus"] = driver.find_element(By.ID, "list-status").text
    report["connection"] = driver.find_element(By.ID, "connection").text
    save_screenshot(driver, args, "dashboard-russian", report)

    # "Load more" appends the next page and then keeps it live with the first.
    load_more = driver.find_element(By.ID, "load-more")
    report["loadMoreText"] = load_more.text if load_more.is_displayed() else None
    rows_before = len(row_states(driver))
    load_more.click()
    wait_for(driver, "the next page of rows", lambda d: len(row_states(d)) > rows_before)
    wait_until_live(driver)
    report["rowsAfterLoadMore"] = len(row_states(driver))
    report["listStatusAfterLoadMore"] = driver.find_element(By.ID, "list-status").text
    report["loadMoreShownAfterLastPage"] = driver.find_element(By.ID, "load-more").is_displayed()

    driver.find_element(By.CSS_SELECTOR, f'#rows tr[data-id="{args.document}"] a').click()
    wait_for(driver, "the document page", lambda d: document_state(d) == "SUCCESS")
    report["documentHeadings"] = [element.text for element in driver.find_elements(By.CSS_SELECTOR, "#document-view h2, #document-view h3")]
    report["documentButton"] = driver.find_element(By.ID, "retry-document").text
    report["backLink"] = driver.find_element(By.ID, "back-link").text
    save_screenshot(driver, args, "dashboard-russian-document", report)


CASES = {"live": run_live, "retry": run_retry, "russian": run_russian}


# Main


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Drive the trigger-email dashboard in headless Chromium.")
    parser.add_argument("--url", required=True, help="the dashboard's address, e.g. http://127.0.0.1:8025/")
    parser.add_argument("--case", required=True, choices=sorted(CASES))
    parser.add_argument("--screenshot-dir", required=True, help="folder for the case's PNG screenshots")
    parser.add_argument("--profile", required=True, help="empty folder for Chromium's profile; chromedriver.log goes beside it")
    parser.add_argument("--language", default="en", choices=["en", "ru"], help="the browser's language (default en)")
    parser.add_argument("--token", help="the API token, entered in the page when the API requires it")
    parser.add_argument("--collection", default="mail", help="the mail collection (default mail)")
    parser.add_argument("--documents", type=int, default=5, help="live: how many documents to add (default 5)")
    parser.add_argument("--document", help="retry and russian: the ID of the document to open")
    parser.add_argument("--retry-all-document", help="retry: the ID of a second ERROR document for Retry all")
    parser.add_argument("--image-port", type=int, help="retry: loopback port of the remote image in the preview")
    parser.add_argument("--deadline", type=int, default=240, help="seconds after which the script stops itself (default 240)")
    parser.add_argument("--watch-stdin", action="store_true", help="stop when standard input reaches end of file")
    args = parser.parse_args()
    if args.case in ("retry", "russian") and not args.document:
        parser.error(f"--case {args.case} needs --document")
    if args.case == "retry" and (not args.retry_all_document or not args.image_port):
        parser.error("--case retry needs --retry-all-document and --image-port")
    return args


def stop_on_signal(number: int, frame: Any) -> None:
    raise StepFailed(f"stopped by {signal.Signals(number).name}")


def stop_at_end_of_input() -> None:
    """Sends this process SIGTERM once standard input reaches end of file."""
    # os.read, not sys.stdin: a daemon thread blocked inside the buffered reader makes the
    # interpreter abort at exit, because shutdown cannot take the reader's lock.
    def wait_for_end() -> None:
        while os.read(sys.stdin.fileno(), 4096):
            pass
        os.kill(os.getpid(), signal.SIGTERM)
    threading.Thread(target=wait_for_end, daemon=True).start()


def main() -> int:
    args = parse_arguments()
    # SIGTERM from the test and the deadline both end up in the finally below, which quits
    # the browser.
    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGALRM, stop_on_signal)
    signal.alarm(args.deadline)
    if args.watch_stdin:
        stop_at_end_of_input()

    report: dict[str, Any] = {"case": args.case, "failure": None}
    try:
        driver = start_browser(args)
    except WebDriverException as error:
        print(f"dashboard_browser: starting Chromium through {CHROMEDRIVER} failed: {error}", file=sys.stderr)
        return 1
    try:
        report["browserVersion"] = driver.capabilities.get("browserVersion")
        CASES[args.case](driver, args, report)
    except (StepFailed, WebDriverException, urllib.error.URLError, OSError) as error:
        report["failure"] = f"{type(error).__name__}: {error}"
        traceback.print_exc(file=sys.stderr)
        try:
            save_screenshot(driver, args, f"dashboard-{args.case}-failure", report)
        except WebDriverException:
            pass
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        driver.quit()
    print(json.dumps(report, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
