#!/usr/bin/env python3
"""Counts the test cases of one `bash .ci/dev.sh test` run and prints "N passed, M failed".

Inputs (all from the current run, so stale files in bazel-testlogs never count):
  --targets        the test targets `bazel test //...` should have run (`bazel query` output)
  --bep            Bazel's build event protocol JSON file (--build_event_json_file) of the run:
                   for each target, its status and the test.xml of every shard and attempt
  --testlogs       bazel-testlogs, used only when an event names no test.xml
  --bazel-exit     the exit status of `bazel test`
  --extra-xml-dir  JUnit XML files written by the suites run outside Bazel

Rules:
  - A test case is a <testcase> element of a JUnit XML file (gtest writes one per TEST; Bazel
    writes one with a single case for tests that write none). It failed if it has a <failure>
    or <error> child; it is skipped (counted in neither number) if gtest did not run it
    (DISABLED_ tests, GTEST_SKIP); otherwise it passed.
  - Each (run, shard) of a target counts once, with its last attempt (so a flaky test that
    passed on retry counts as passed).
  - A target that has no result in this run (it failed to build, or Bazel stopped early), or
    whose XML is missing or unreadable, counts as 1 failed case.
  - A target that Bazel reports as failed (timeout, crash, sanitizer report at exit) while its
    XML shows no failed case gets 1 failed case added.
  - If Bazel failed and nothing above explains it (a non-test target failed to build), that is
    1 failed case.
The last line printed is the summary; the exit status is 1 if M > 0, else 0.
Standard library only.
"""

import argparse
import json
import os
import sys
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ElementTree

PASSING_STATUSES = ("PASSED", "FLAKY")


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.failures = []  # human-readable lines for the report

    def fail(self, what):
        self.failed += 1
        self.failures.append(what)

    def add_xml(self, path, where, unreadable):
        """Adds the cases of one JUnit XML file; returns its failed cases, or None
        (one failure `where: unreadable`) if it cannot be read."""
        counted = count_xml(path)
        if counted is None:
            self.fail(f"{where}: {unreadable}")
            return None
        passed, skipped, failed = counted
        self.passed += passed
        self.skipped += skipped
        for case in failed:
            self.fail(f"{where}: {case}")
        return failed


def failure_digest(problem, max_lines=12):
    """The first lines of a <failure> or <error> element's text (or its message), indented under
    the case name, so that the summary at the end of a long log says why a case failed."""
    text = (problem.text or "").strip() or problem.get("message", "").strip()
    lines = [line.rstrip()[:300] for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    if len(lines) > max_lines:
        lines = lines[:max_lines] + [f"... ({len(lines) - max_lines} more lines)"]
    return "".join(f"\n      {line}" for line in lines)


def count_xml(path):
    """Returns (passed, skipped, [failed case names]) of one JUnit XML file, or None."""
    try:
        root = ElementTree.parse(path).getroot()
    except (OSError, ElementTree.ParseError):
        return None
    passed = 0
    skipped = 0
    failed = []
    for case in root.iter("testcase"):
        name = case.get("name", "")
        classname = case.get("classname", "")
        full = f"{classname}.{name}" if classname else name
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            failed.append(full + failure_digest(problem))
        elif (case.find("skipped") is not None or case.get("status") == "notrun"
              or case.get("result") in ("skipped", "suppressed")):
            skipped += 1
        else:
            passed += 1
    return passed, skipped, failed


def file_path(uri):
    if not uri or not uri.startswith("file://"):
        return None
    return urllib.request.url2pathname(urllib.parse.urlparse(uri).path)


def read_bep(path):
    """Returns {label: {(run, shard): (attempt, status, xml_path)}} from a BEP JSON file."""
    results = {}
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
    except OSError:
        return results
    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        event_id = event.get("id", {}).get("testResult")
        if event_id is None or "testResult" not in event:
            continue
        label = event_id.get("label", "")
        key = (int(event_id.get("run", 1)), int(event_id.get("shard", 1)))
        attempt = int(event_id.get("attempt", 1))
        body = event["testResult"]
        status = body.get("status", "NO_STATUS")
        xml_path = None
        for output in body.get("testActionOutput", []):
            if output.get("name") == "test.xml":
                xml_path = file_path(output.get("uri"))
        previous = results.setdefault(label, {}).get(key)
        if previous is None or attempt >= previous[0]:
            results[label][key] = (attempt, status, xml_path)
    return results


def testlogs_xml(testlogs, label):
    package, _, name = label.lstrip("/").partition(":")
    return os.path.join(testlogs, package, name, "test.xml")


def count_target(tally, label, shard_results, testlogs):
    if not shard_results:
        tally.fail(f"{label}: no test result in this run (build failure or bazel stopped)")
        return
    for key in sorted(shard_results):
        _, status, xml_path = shard_results[key]
        where = label if len(shard_results) == 1 else f"{label} (run {key[0]}, shard {key[1]})"
        if xml_path is None:
            xml_path = testlogs_xml(testlogs, label)
        failed = tally.add_xml(xml_path, where, f"{status}, no readable test.xml")
        if failed is None:
            continue
        if status not in PASSING_STATUSES and not failed:
            tally.fail(f"{where}: {status} although every test case in test.xml passed")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", required=True)
    parser.add_argument("--bep", required=True)
    parser.add_argument("--testlogs", required=True)
    parser.add_argument("--bazel-exit", type=int, required=True)
    parser.add_argument("--extra-xml-dir")
    args = parser.parse_args()

    try:
        with open(args.targets, encoding="utf-8") as f:
            targets = sorted({line.strip() for line in f if line.strip().startswith("//")})
    except OSError:
        targets = []

    results = read_bep(args.bep)
    tally = Tally()
    for label in targets:
        count_target(tally, label, results.get(label, {}), args.testlogs)
    # Tests Bazel ran that the query did not list (should not happen) still count.
    for label in sorted(set(results) - set(targets)):
        count_target(tally, label, results[label], args.testlogs)

    if args.extra_xml_dir and os.path.isdir(args.extra_xml_dir):
        for name in sorted(os.listdir(args.extra_xml_dir)):
            if not name.endswith(".xml"):
                continue
            tally.add_xml(os.path.join(args.extra_xml_dir, name), name, "unreadable JUnit XML")

    # Exit 3: some tests failed (counted above); 4: no test targets at all.
    if args.bazel_exit not in (0, 3, 4) and tally.failed == 0:
        tally.fail(f"bazel exited with status {args.bazel_exit} (a target failed to build?)")

    if tally.failures:
        print("Failed test cases:")
        for line in tally.failures:
            print(f"  {line}")
    if tally.skipped:
        print(f"({tally.skipped} test cases skipped or disabled, not counted)")
    print(f"{tally.passed} passed, {tally.failed} failed")
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
