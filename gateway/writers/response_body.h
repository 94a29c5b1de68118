// gateway/writers/response_body.h
//
// The body of an HTTP answer that is produced while it is sent: the HTTP
// server asks for the next piece only when the connection can take it, so
// an answer of any size holds one piece in memory and no thread while the
// client reads slowly. /federate and the large /api/v1 answers use it.
//
// Thread-safety: a BodyChunks is called by one thread at a time.

#ifndef FEDGATE_GATEWAY_WRITERS_RESPONSE_BODY_H_
#define FEDGATE_GATEWAY_WRITERS_RESPONSE_BODY_H_

#include <string>

#include "absl/functional/any_invocable.h"

namespace fedgate {

// Appends the next piece of the body (about 64 KiB) to `out` and returns
// true while more follows; appends the last piece (possibly empty) and
// returns false at the end. Not called again after it returned false.
using BodyChunks = absl::AnyInvocable<bool(std::string* out)>;

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_WRITERS_RESPONSE_BODY_H_
