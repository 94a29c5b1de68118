# fedgate's image: built on Debian 12 the way the README builds it (Debian's Bazel and libraries,
# offline), shipped on Debian 12 with the binary and the shared libraries it links, nothing else.
#
#   docker build -t fedgate:0.2.0 \
#     --build-arg FEDGATE_GIT_REVISION="$(git rev-parse HEAD)" \
#     --build-arg FEDGATE_GIT_BRANCH="$(git rev-parse --abbrev-ref HEAD)" .
#
# The build context leaves out .git (.dockerignore): the two build arguments are what
# fedgate_build_info and --version name (bazel/workspace_status.sh); without them, "unknown".
#
# tests/deploy_manifests_test.py checks that the runtime stage installs exactly the Debian
# packages of the libraries `ldd` lists for the built fedgate (plus ca-certificates), and that
# the build stage installs only packages that .ci/dev.sh installs for the build.

FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      bazel-bootstrap bazel-platforms bazel-rules-java \
      libgrpc++-dev protobuf-compiler protobuf-compiler-grpc libprotobuf-dev \
      libabsl-dev libcpp-httplib-dev libbrotli-dev libre2-dev libmicrohttpd-dev libgnutls28-dev \
      libcrypt-dev \
      libbenchmark-dev libgtest-dev libgmock-dev \
      libssl-dev zlib1g-dev libcurl4-openssl-dev libyaml-cpp-dev prometheus-cpp-dev rapidjson-dev \
      g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
ARG FEDGATE_GIT_REVISION=unknown
ARG FEDGATE_GIT_BRANCH=unknown
# The build of .ci/dev.sh demo; the binary is copied out of Bazel's output tree.
RUN FEDGATE_GIT_REVISION="${FEDGATE_GIT_REVISION}" FEDGATE_GIT_BRANCH="${FEDGATE_GIT_BRANCH}" \
      bazel build //gateway:fedgate \
 && cp -L bazel-bin/gateway/fedgate /fedgate

FROM debian:12-slim
# The packages of the libraries fedgate links (ldd), and ca-certificates for HTTPS targets whose
# tls_config names no ca_file.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libabsl20220623 libbrotli1 libc-ares2 libc6 libcom-err2 libcpp-httplib0.11 libcrypt1 \
      libcurl4 libffi8 libgcc-s1 libgmp10 libgnutls30 libgrpc++1.51 libgrpc29 libgssapi-krb5-2 \
      libhogweed6 libidn2-0 libk5crypto3 libkeyutils1 libkrb5-3 libkrb5support0 libldap-2.5-0 \
      libmicrohttpd12 libnettle8 libnghttp2-14 libp11-kit0 libprometheus-cpp-core1.0 \
      libprotobuf32 libpsl5 libre2-9 librtmp1 libsasl2-2 libssh2-1 libssl3 libstdc++6 \
      libtasn1-6 libunistring2 libyaml-cpp0.7 libzstd1 zlib1g \
      ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /fedgate /usr/bin/fedgate
# nobody: the Deployment runs it as this user with a read-only root filesystem.
USER 65534:65534
EXPOSE 9099 9098
ENTRYPOINT ["/usr/bin/fedgate"]
