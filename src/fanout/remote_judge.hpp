// The answers of a run's checks judged, before the statement may run (core/remote_checks.hpp has the questions and
// the judgement): the session facts (the remote roles, the pid that answered, the dblink and postgres_fdw schemas the
// reset needs) and the volatile functions found, read from the remote's results into the core's verdicts. A refusal
// fails the run with the verdict's message, DETAIL and HINT; a risk a server option accepts is a WARNING; and the
// session must still read SQL as the guard did. The pipeline's answers (remote_pipeline.hpp) and the slower path's
// (remote.cpp) come here alike; a clean pass of the pipeline's keeps the catalog state it read (ConnectionHistory), and
// the answer of the statement that compared it later is judged here too.
#pragma once

#include "fanout/remote.hpp"

namespace multidb {

// session->answers judged. volatile_reach: the pipeline's, where the named calls and the implicit reach came as one
// result (each row with its kind) and the session facts with the settings' columns after theirs; else the slower
// path's, one result each. kWantRead when the run may go on; else kFailed, session->failure set.
RemoteEvent judge_check_answers(RemoteSession* session, bool volatile_reach);

// The pipeline's answer when it sent the catalog state instead of the checks (core/remote_checks.hpp: catalog
// unchanged), which passed its gate: the earlier verdict stands; the session's pid and schemas are taken as the facts'.
RemoteEvent judge_unchanged_answer(RemoteSession* session);

// remote.cpp's, shared with remote_judge.cpp.
RemoteEvent remote_fail(RemoteSession* session, int sqlstate, const char* message);
RemoteEvent remote_fail_detailed(RemoteSession* session, int sqlstate, const char* message, const char* detail,
                                 const char* hint, bool refused);
// The remote still reads SQL as the guard did (standard_conforming_strings, client_encoding): kWantRead, or a refusal.
RemoteEvent remote_check_lexing(RemoteSession* session);

}  // namespace multidb
