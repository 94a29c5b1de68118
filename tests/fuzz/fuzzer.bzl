"""The three targets of one libFuzzer fuzzer: its library, its corpus replay test
and its libFuzzer binary.

Used by tests/fuzz/BUILD.bazel, once per parser that reads untrusted input.
"""

load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_library", "cc_test")

def fedgate_fuzzer(name, corpus, deps):
    """Declares `<name>_fuzzer`, `<name>_fuzzer_corpus_test` and `<name>_fuzz`.

    Args:
      name: the fuzzed concept; the source is `<name>_fuzzer.cc` and the seed
        corpus is in `corpus/<name>/`.
      corpus: the seed files, relative to `corpus/<name>/`.
      deps: what `<name>_fuzzer.cc` includes.
    """

    # LLVMFuzzerTestOneInput, linked into both the replay test and the binary.
    cc_library(
        name = name + "_fuzzer",
        testonly = True,
        srcs = [name + "_fuzzer.cc"],
        alwayslink = True,
        deps = deps,
    )

    # Replays every seed through the fuzzer (also under --config=asan).
    cc_test(
        name = name + "_fuzzer_corpus_test",
        size = "small",
        args = ["tests/fuzz/corpus/" + name],
        data = ["corpus/%s/%s" % (name, f) for f in corpus],
        deps = [
            ":corpus_replay_main",
            ":" + name + "_fuzzer",
        ],
    )

    # The libFuzzer binary; builds only with --config=fuzz (libFuzzer's main).
    cc_binary(
        name = name + "_fuzz",
        testonly = True,
        tags = ["manual"],
        deps = [":" + name + "_fuzzer"],
    )
