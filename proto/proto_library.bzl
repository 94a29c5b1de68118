"""One macro per .proto: system protoc (+ grpc_cpp_plugin) into a cc_library."""

def fedgate_cc_proto(name, src, deps = [], grpc = False, visibility = None):
    """Generates C++ (and, with grpc = True, gRPC) code for `src`.

    Args:
      name: the cc_library's name.
      src: one .proto file in this package.
      deps: other fedgate_cc_proto libraries whose .proto files `src` imports.
      grpc: also run grpc_cpp_plugin and link gRPC.
      visibility: the cc_library's visibility.
    """
    base = src[:-len(".proto")]
    outs = [base + ".pb.h", base + ".pb.cc"]
    cmd = "protoc --proto_path=. --cpp_out=$(GENDIR) "
    if grpc:
        outs += [base + ".grpc.pb.h", base + ".grpc.pb.cc"]
        cmd += "--grpc_out=$(GENDIR) --plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin "
    native.genrule(
        name = name + "_gen",
        srcs = [src] + [d + "_srcs" for d in deps],
        outs = outs,
        cmd = cmd + "$(location " + src + ")",
    )
    native.filegroup(
        name = name + "_srcs",
        srcs = [src],
        visibility = visibility,
    )
    native.cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        copts = ["-Wno-unused-parameter", "-Wno-error"],
        deps = deps + ["@system//:protobuf"] + (["@system//:grpc"] if grpc else []),
        visibility = visibility,
    )
