"""The tests of tests/ that run the real fedgate binary.

Used by tests/BUILD.bazel, once per end-to-end or differential test.
"""

load("@rules_cc//cc:defs.bzl", "cc_test")

def fedgate_e2e_test(name, data = [], deps = [], **kwargs):
    """Declares the medium-sized test `name` (`name.cc`) of the fedgate binary.

    The test starts `//gateway:fedgate` (and the processes it talks to) with
    `:test_processes` and `:subprocess`, whose loopback targets and clients are
    cpp-httplib's, and is linked with gtest_main.

    Args:
      name: the test; its source is `name.cc`.
      data: what it reads besides the fedgate binary.
      deps: what it includes besides subprocess.h, test_processes.h, httplib.h
        and Abseil.
      **kwargs: passed to cc_test.
    """
    cc_test(
        name = name,
        size = "medium",
        srcs = [name + ".cc"],
        data = ["//gateway:fedgate"] + data,
        deps = [
            ":subprocess",
            ":test_processes",
            "@system//:absl",
            "@system//:gtest_main",
            "@system//:httplib",
        ] + deps,
        **kwargs
    )
