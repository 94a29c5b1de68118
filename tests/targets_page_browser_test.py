#!/usr/bin/python3
"""The /targets page in a real headless Chromium.

Starts the real fedgate on 127.0.0.1 with four loopback targets this script serves itself, in
three jobs: `healthy` (one target, plus one that relabel_configs drop), `failing` (answers 500)
and `registry` (two endpoints of one registry, a dedup group). A static label of `healthy`
holds `<script>window.pwned=1</script>`, and the failing target's status line has the reason
phrase `<script>window.pwnedByError=1</script>`, which fedgate shows in the target's last
error as Prometheus does. Once every target has been scraped, it opens `/` in
headless Chromium (Debian's chromium, chromium-driver and python3-selenium) and checks that
the redirect leads to /targets; that each job shows its `up/total`; that the failing target
is down with its error; the dedup leader and its standby; the dropped target; the discovered
labels on demand; that the `<script>` label and error are shown as text and never ran; that the
"Unhealthy only" and text filters hide what they should; and that the browser console has no
error (a Content-Security-Policy violation would be one). Saves screenshots for people to look
at: into $TEST_UNDECLARED_OUTPUTS_DIR under Bazel (bazel-testlogs/tests/
targets_page_browser_test/test.outputs/outputs.zip), else into /tmp/fedgate-targets-page-test/.

Run: bazel test //tests:targets_page_browser_test, or after `bazel build //gateway:fedgate`,
/usr/bin/python3 tests/targets_page_browser_test.py. Every wait is bounded, every process
started (fedgate, chromedriver and its Chromium) is stopped by its PID; about 10 s.
"""

import json
import os
import sys
import tempfile
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

# The shared module is imported from the source tree: no bytecode cache is written into it.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_processes import (  # noqa: E402 (found through the path above)
    fedgate_binary, start_fedgate, start_target, stop, wait_until)

EVIL = '<script>window.pwned=1</script> & "q"'
# The failing target's reason phrase, which its last error quotes.
EVIL_REASON = "<script>window.pwnedByError=1</script>"
REGISTRY = (
    "# HELP demo_requests_total Requests.\n"
    "# TYPE demo_requests_total counter\n"
    'demo_requests_total{code="200"} 7\n'
    'demo_requests_total{code="500"} 1\n'
)
HTTP_TIMEOUT_S = 5


def outputs_dir():
    out = os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR") or "/tmp/fedgate-targets-page-test"
    os.makedirs(out, exist_ok=True)
    return out


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_S) as res:
            return res.status, dict(res.headers), res.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode("utf-8", "replace")


def write_no_auth_web_config(config):
    """The browser has no Kubernetes token: authentication is turned off, as the web config
    says it must be outside a cluster."""
    web_config = os.path.join(os.path.dirname(config), "no-auth-web.yml")
    with open(web_config, "w", encoding="utf-8") as f:
        f.write("authentication:\n  disabled: true\n")
    return web_config


def write_config(path, healthy, failing, registry_a, registry_b):
    evil_yaml = EVIL.replace("'", "''")
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"""global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: healthy
    static_configs:
      - targets: ['127.0.0.1:{healthy}', '127.0.0.1:1']
        labels:
          note: '{evil_yaml}'
    relabel_configs:
      - source_labels: [__address__]
        regex: '127\\.0\\.0\\.1:1'
        action: drop
  - job_name: failing
    static_configs:
      - targets: ['127.0.0.1:{failing}']
  - job_name: registry
    static_configs:
      - targets: ['127.0.0.1:{registry_a}', '127.0.0.1:{registry_b}']
dedup_groups:
  - name: registry
    job_names: [registry]
    source_labels: [__address__]
    regex: '(.+):\\d+'
""")


def start_browser(tmp):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1000", f"--user-data-dir={tmp}/chromium-profile",
                "--no-first-run", "--disable-extensions", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # Debian's chromedriver, named so that nothing is looked up or downloaded.
    service = Service(executable_path="/usr/bin/chromedriver",
                      log_path=os.path.join(tmp, "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(15)
    driver.set_script_timeout(5)
    return driver


def shown(driver, element):
    """Whether `element` is rendered: not hidden, nor inside a closed <details>."""
    return driver.execute_script("return arguments[0].checkVisibility()", element)


def visible_rows(driver):
    return [r for r in driver.find_elements(By.CSS_SELECTOR, "tr.target") if shown(driver, r)]


def job_sections(driver):
    """Returns {job name: (count text, section element)}."""
    jobs = {}
    for section in driver.find_elements(By.CSS_SELECTOR, "details.job"):
        name = section.get_attribute("data-job")
        jobs[name] = (section.find_element(By.CSS_SELECTOR, "summary .count").text, section)
    return jobs


def check_page(driver, base, ports, out):
    driver.get(base + "/")
    assert driver.current_url == base + "/targets", driver.current_url
    assert driver.title == "Targets - fedgate", driver.title
    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script("return document.readyState") == "complete")

    jobs = job_sections(driver)
    assert sorted(jobs) == ["failing", "healthy", "registry"], sorted(jobs)
    assert jobs["healthy"][0] == "1/1 up", jobs["healthy"][0]
    assert jobs["failing"][0] == "0/1 up", jobs["failing"][0]
    assert jobs["registry"][0] == "2/2 up", jobs["registry"][0]
    summary = driver.find_element(By.ID, "summary").text
    assert summary.startswith("3 of 4 targets up in 3 jobs; 1 dropped"), summary

    # The failing target: down, with the scrape's error.
    failing = jobs["failing"][1].find_element(By.CSS_SELECTOR, "tr.target")
    assert failing.find_element(By.CSS_SELECTOR, ".state").text == "down"
    error = failing.find_element(By.CSS_SELECTOR, "td.error").text
    assert error == f"server returned HTTP status 500 {EVIL_REASON}", error
    assert f"http://127.0.0.1:{ports['failing']}/metrics" in failing.text

    # The dedup pair: one leader, one standby, in the group of their host.
    registry = jobs["registry"][1].find_elements(By.CSS_SELECTOR, "td.dedup")
    dedup = sorted(cell.text.split("\n")[1] for cell in registry)
    assert dedup == ["leader", "standby"], [cell.text for cell in registry]
    assert all(cell.text.startswith("registry/127.0.0.1") for cell in registry)

    # Samples scraped: the registry's two series.
    healthy = jobs["healthy"][1].find_element(By.CSS_SELECTOR, "tr.target")
    assert healthy.find_element(By.CSS_SELECTOR, ".samples").text == "2"

    # The label with markup is text, and its script never ran.
    labels = [e.text for e in healthy.find_elements(By.CSS_SELECTOR, ".label")]
    assert f'note="{EVIL}"' in labels, labels
    assert driver.execute_script("return typeof window.pwned") == "undefined"
    assert driver.execute_script("return typeof window.pwnedByError") == "undefined"
    assert driver.execute_script("return document.scripts.length") == 1

    # Discovered labels on demand.
    discovered = healthy.find_element(By.CSS_SELECTOR, "details.discovered")
    address = f'__address__="127.0.0.1:{ports["healthy"]}"'
    first = discovered.find_element(By.CSS_SELECTOR, ".label")
    assert not shown(driver, first)
    discovered.find_element(By.TAG_NAME, "summary").click()
    WebDriverWait(driver, 5).until(lambda d: shown(d, first))
    discovered_labels = [e.text for e in discovered.find_elements(By.CSS_SELECTOR, ".label")]
    assert address in discovered_labels, discovered_labels

    # The dropped target, with its discovered labels.
    dropped = jobs["healthy"][1].find_element(By.CSS_SELECTOR, "details.dropped")
    dropped.find_element(By.TAG_NAME, "summary").click()
    item = dropped.find_element(By.CSS_SELECTOR, "li.dropped-target")
    WebDriverWait(driver, 5).until(lambda d: shown(d, item))
    assert '__address__="127.0.0.1:1"' in item.text, item.text
    driver.save_screenshot(os.path.join(out, "targets_page.png"))

    # Unhealthy only: the failing target alone is left.
    assert len(visible_rows(driver)) == 4
    driver.find_element(By.ID, "unhealthy").click()
    rows = visible_rows(driver)
    assert [r.find_element(By.CSS_SELECTOR, ".state").text for r in rows] == ["down"]
    assert not shown(driver, jobs["healthy"][1])
    assert not shown(driver, jobs["registry"][1])
    assert shown(driver, jobs["failing"][1])
    driver.save_screenshot(os.path.join(out, "targets_page_unhealthy.png"))
    driver.find_element(By.ID, "unhealthy").click()
    assert len(visible_rows(driver)) == 4

    # The text filter: one registry endpoint, then a job by name, then nothing.
    box = driver.find_element(By.ID, "filter")
    box.send_keys(f"127.0.0.1:{ports['registry_a']}/metrics")
    rows = visible_rows(driver)
    assert len(rows) == 1, [r.text for r in rows]
    assert f"127.0.0.1:{ports['registry_a']}" in rows[0].text
    assert not shown(driver, jobs["failing"][1])
    box.clear()
    box.send_keys("FAILING")
    rows = visible_rows(driver)
    assert len(rows) == 1 and "down" in rows[0].text, [r.text for r in rows]
    box.clear()
    box.send_keys("window.pwned=1")  # The label's text, found as text.
    rows = visible_rows(driver)
    assert len(rows) == 1 and f"127.0.0.1:{ports['healthy']}" in rows[0].text
    box.clear()
    box.send_keys("pwnedByError")  # The error's text, likewise.
    rows = visible_rows(driver)
    assert len(rows) == 1 and f"127.0.0.1:{ports['failing']}" in rows[0].text
    box.clear()
    box.send_keys("no such target")
    assert visible_rows(driver) == []
    assert driver.execute_script("return typeof window.pwned") == "undefined"
    assert driver.execute_script("return typeof window.pwnedByError") == "undefined"

    errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    assert errors == [], errors


def main():
    out = outputs_dir()
    tmp = tempfile.mkdtemp(prefix="fedgate-targets-page-", dir=os.environ.get("TEST_TMPDIR"))
    servers = {"healthy": start_target(REGISTRY),
               "failing": start_target("internal error\n", status=500, reason=EVIL_REASON),
               "registry_a": start_target(REGISTRY), "registry_b": start_target(REGISTRY)}
    ports = {name: s.server_address[1] for name, s in servers.items()}
    config = os.path.join(tmp, "fedgate.yml")
    write_config(config, **ports)
    proc = None
    driver = None
    try:
        proc, web_port = start_fedgate(fedgate_binary(), config, write_no_auth_web_config(config),
                                       os.path.join(out, "fedgate.log"))
        base = f"http://127.0.0.1:{web_port}"

        def scraped():
            status, _, body = get(base + "/api/v1/targets")
            if status != 200:
                return False
            active = json.loads(body)["data"]["activeTargets"]
            return len(active) == 4 and all(t["health"] != "unknown" for t in active)

        wait_until("every target scraped once", 20, scraped)

        status, headers, body = get(base + "/targets")
        assert status == 200, status
        assert headers["Content-Type"] == "text/html; charset=utf-8", headers
        assert headers["X-Content-Type-Options"] == "nosniff", headers
        csp = headers["Content-Security-Policy"]
        assert csp.startswith("default-src 'none'; style-src 'sha256-"), csp
        assert "unsafe-inline" not in csp, csp
        assert "<script>window.pwned" not in body
        assert "&lt;script&gt;window.pwned=1&lt;/script&gt; &amp; &#34;q&#34;" in body
        assert ("server returned HTTP status 500 "
                "&lt;script&gt;window.pwnedByError=1&lt;/script&gt;</td>") in body, body

        driver = start_browser(tmp)
        check_page(driver, base, ports, out)
    finally:
        if driver is not None:
            driver.quit()  # Ends chromedriver (by its PID) and its Chromium.
        status = stop(proc)
        for s in servers.values():
            s.shutdown()
            s.server_close()
    # A clean stop: under --config=asan, also no sanitizer report.
    assert status == 0, f"fedgate exited with status {status}: see its log in {out}"
    print(f"PASS: screenshots in {out}")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAIL: {e}", file=sys.stderr)
        raise
