"""The C++ rules of the stage packages: one library per concept, one test per library.

A concept `x` of a stage is `x.h` with `x.cc`, in the package's folder or in one of
its rooms (`scraper/discovery/`, `merge/query/` ...); its test is `x_test.cc` beside it. These
macros take those file names from the target's name and add Abseil, so a BUILD stanza says
only what differs: its other dependencies and anything unusual. A test that needs nothing but
its library is declared with the library (`test = True`).

Used by the BUILD.bazel files of config/, merge/, scraper/, gateway/ and tests/.
"""

load("@rules_cc//cc:defs.bzl", "cc_library", "cc_test")

# Every stage is written with Abseil (absl::Status, absl::string_view, ...),
# so every library and test of these macros depends on it.
_ABSL = "@system//:absl"

def _in_room(room, file):
    return room + "/" + file if room else file

def fedgate_cc_library(
        name,
        room = "",
        srcs = None,
        hdrs = None,
        deps = [],
        test = False,
        **kwargs):
    """Declares the library `name`: `name.h` and `name.cc`.

    Args:
      name: the concept; its files are `name.h` and `name.cc`.
      room: the subfolder holding the files, if any (`"discovery"`).
      srcs: instead of `[name.cc]` (`[]` for a header-only concept).
      hdrs: instead of `[name.h]`.
      deps: what the library includes besides Abseil, which is added.
      test: also declares `name_test` (fedgate_cc_test), for a test that
        needs nothing but the library; a test that needs more (other deps,
        data, a size) has its own fedgate_cc_test stanza.
      **kwargs: passed to cc_library (visibility, testonly ...).
    """
    cc_library(
        name = name,
        srcs = [_in_room(room, name + ".cc")] if srcs == None else srcs,
        hdrs = [_in_room(room, name + ".h")] if hdrs == None else hdrs,
        deps = deps + [_ABSL],
        **kwargs
    )
    if test:
        fedgate_cc_test(
            name = name + "_test",
            room = room,
            deps = [":" + name],
        )

def fedgate_cc_test(name, room = "", srcs = None, size = "small", deps = [], **kwargs):
    """Declares the GoogleTest test `name`: `name.cc`, linked with gtest_main.

    Args:
      name: the test, `<concept>_test`; its source is `name.cc`.
      room: the subfolder holding the source, if any (`"discovery"`).
      srcs: instead of `[name.cc]`.
      size: the Bazel test size; unit tests are small (a minute at most).
      deps: what the test includes besides Abseil and GoogleTest, which are
        added (gtest_main).
      **kwargs: passed to cc_test (data, args, env ...).
    """
    cc_test(
        name = name,
        size = size,
        srcs = [_in_room(room, name + ".cc")] if srcs == None else srcs,
        deps = deps + [_ABSL, "@system//:gtest_main"],
        **kwargs
    )
