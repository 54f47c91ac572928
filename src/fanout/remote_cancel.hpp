// Cancel requests that never make the caller wait on the network.
//
// libpq 15's PQcancel() opens a connection to the server, sends the request and then waits until the
// server closes that connection: for a frozen server (SIGSTOP, a paused VM, a partition the kernel still
// acknowledges) that is forever, and it retries on EINTR, so no signal ends the wait. It ran inside
// transaction abort (a memory-context reset callback) and in a worker's exit callback, and kept those
// processes unkillable. PostgreSQL 17's libpq has a non-blocking cancel (PQcancelStart); until then the
// request goes out from a short-lived process whose only job that is (see remote_cancel.cpp).
#pragma once

extern "C" {
#include "libpq-fe.h"
}

namespace multidb {

// Sends a cancel request for conn's running statement from a detached child process that gives up after
// deadline_s seconds; returns at once, never raises, never waits on the network. Best effort: the remote's
// own statement_timeout still bounds the statement if the request is lost.
void send_cancel_detached(PGconn* conn, int deadline_s);

// The same for count connections at once (a call of many targets ending: a cancel or an error): one fork of the
// caller for all of them, so that ending a call costs one process start, not one per running target; the
// detached process starts one short-lived sender per request, so that a frozen remote delays no other's.
void send_cancels_detached(PGconn* const* conns, int count, int deadline_s);

}  // namespace multidb
